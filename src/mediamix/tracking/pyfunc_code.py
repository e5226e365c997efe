"""The models-from-code script stored with every registered mediamix model.

MLflow runs this file when someone calls ``mlflow.pyfunc.load_model`` on a
registered mediamix model; it only imports the installed package's model class,
which then reads the checksummed JSON + npz artifact. Nothing pickled is stored.
mediamix's own loader never runs it: it checks that the stored copy is byte for
byte this file and reads the artifact itself.
"""

from mlflow.models import set_model

from mediamix.tracking.pyfunc import MediamixModel

set_model(MediamixModel())
