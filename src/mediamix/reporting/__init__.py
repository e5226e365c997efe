"""Figures and reports from fitted models and plans.

:mod:`~mediamix.reporting.plots` has one function per chart, each returning a
matplotlib figure; :mod:`~mediamix.reporting.html` renders the same figures into a
self-contained HTML report. Matplotlib (the ``report`` extra) is imported only
when a chart is drawn.
"""
