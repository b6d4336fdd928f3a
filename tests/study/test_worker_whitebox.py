"""The study runs white-box (Captum) saliency methods next to black-box ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from nrtk.impls.perturb_image.photometric.enhance import BrightnessPerturber
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import to_config_dict

from xaitk_wcam.impls.comparison import SSD
from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal import SobolAttribution
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import GradCAM, IntegratedGradients, VanillaGradients
from xaitk_wcam.interfaces.image_source import ImageSource
from xaitk_wcam.study import ResultsStore, SaliencyRobustnessStudy, StudyConfigError
from xaitk_wcam.study.plugins import implementations


class TwoImages(ImageSource):
    def _iter_images(self) -> Any:
        rng = np.random.default_rng(0)
        for i in range(2):
            yield f"img{i}", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), None

    def get_config(self) -> dict[str, Any]:
        return {"limit": self.limit}


class OnlyBlackbox(ClassifyImage):
    def get_labels(self) -> list[str]:
        return ["a", "b"]

    def classify_images(self, img_iter: Any) -> Any:
        for img in img_iter:
            m = float(np.asarray(img).mean()) / 255
            yield {"a": m, "b": 1 - m}

    def get_config(self) -> dict[str, Any]:
        return {}


def _config(classifier: Any) -> dict[str, Any]:
    return json.loads(
        json.dumps(
            {
                "classifier": to_config_dict(classifier),
                "images": to_config_dict(TwoImages()),
                "perturbers": [to_config_dict(BrightnessPerturber(factor=0.5))],
                "saliency": {
                    "grad": to_config_dict(VanillaGradients()),
                    "ig": to_config_dict(IntegratedGradients(steps=4)),
                    "gradcam": to_config_dict(GradCAM()),
                    "sobol": to_config_dict(SobolAttribution(grid_size=4, nb_design=2, batch_size=36)),
                },
                "metrics": [to_config_dict(SSD()), to_config_dict(Deletion(max_steps=4))],
                "noise_floor": False,  # tested in test_study.py
            }
        )
    )


def test_whitebox_methods_are_saliency_plugins() -> None:
    found = set(implementations("saliency", refresh=True).values())
    assert {VanillaGradients, IntegratedGradients, GradCAM, SobolAttribution} <= found


def test_study_with_whitebox_and_blackbox_methods(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

    classifier = HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu", batch_size=36)
    frame = SaliencyRobustnessStudy(_config(classifier)).run(tmp_path / "out", progress=False)
    assert len(frame) == 2 * 2 * 4
    assert (frame["status"] == "ok").all(), frame["status"].tolist()
    assert set(frame["method"]) == {"grad", "ig", "gradcam", "sobol"}
    perturbed = frame[frame["perturbation"] != "reference"]
    assert np.isfinite(perturbed[["SSD", "dauc"]].to_numpy()).all()

    # the white-box map is the method's map of the target class, computed through the classifier itself
    store = ResultsStore(tmp_path / "out")
    arrays = store.load_arrays("000000-0000")
    target = list(classifier.get_labels()).index(frame["target_label"].iloc[0])
    expected = VanillaGradients().generate(arrays.image, classifier, [target])[0]
    np.testing.assert_allclose(arrays.maps["grad"]["pixel"], expected, atol=1e-6)


def test_whitebox_method_needs_a_whitebox_classifier(tmp_path: Path) -> None:
    with pytest.raises(StudyConfigError, match="grad"):
        SaliencyRobustnessStudy(_config(OnlyBlackbox())).run(tmp_path / "out", progress=False)
