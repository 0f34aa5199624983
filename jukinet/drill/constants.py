"""Names the drill runner shares with the product (flows/emergency.py, prefect.yaml, tasks/chapter1.py)."""

CHAPTER1_DEPLOYMENT = ("第1章 緊急時対応", "緊急時対応")  # flows/emergency.py, prefect.yaml
CHAPTER1_TAG = "第1章"
CHAPTER2_TAG = "第2章"
CHAPTER3_STATE = "第3章（手作業で対応）"  # tasks/chapter1.py hand_over_unauthorized
REFUSED = "拒否"
POLL_SECONDS = 0.5
DEFAULT_API = "http://127.0.0.1:4200/api"
ENDED_BADLY = {"FAILED", "CRASHED", "CANCELLED", "CANCELLING"}
