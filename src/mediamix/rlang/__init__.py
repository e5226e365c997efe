"""R integration: glmnet through rpy2, Robyn JSON models in and out, R scripts as models.

Nothing here is imported by ``import mediamix``; R itself is looked for only when a
function that needs it runs (:mod:`mediamix.rlang.bridge`), so every command that
does not use R works on a machine without R.
"""
