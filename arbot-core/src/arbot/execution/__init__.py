"""Execution: the fill simulator and the backtest, paper and live executors."""
