"""The study's fakes (``tests/study/study_helpers.py``) serve the model-kind tests too."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
