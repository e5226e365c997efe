"""Reserved for analyses read from fitted results (the layer of optimization and attribution).

Empty today: decomposition, ROI, marginal ROI and response curves are computed by
the fit result itself (:class:`mediamix.models.result.FitResult`), because only it
knows its transforms.
"""
