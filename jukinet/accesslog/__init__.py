"""Access-log analysis for unauthorized acts (C3.S5 原因の究明, C3.A.L3 (3))."""
