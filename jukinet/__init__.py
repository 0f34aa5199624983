"""住基ネット緊急時対応: the town's emergency plan as data, forms, store and notices (no Prefect here)."""
