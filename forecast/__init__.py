"""Forecasting engine: long frames of history in, forecasts with quantiles and backtest metrics out."""
