"""Core data: the model spec, the validated dataset, validation and synthetic data.

Pure numpy/pandas: :mod:`~mediamix.data.spec` (what a spec may say),
:mod:`~mediamix.data.validation` (every problem of a table, by file, row and column),
:mod:`~mediamix.data.dataset` (the immutable geo x period x channel dataset built only
from a table without errors), :mod:`~mediamix.data.synthetic` (data with known
truth) and :mod:`~mediamix.data.unified` (the long layout of ad-platform data).
Reading files is :mod:`mediamix.io`'s job, so this layer never touches the disk.
"""
