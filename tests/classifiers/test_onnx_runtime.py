"""HuggingFaceImageClassifier(backend="onnxruntime"): the same probabilities as torch on the offline models,
the cache of exported graphs, white-box methods untouched, and the errors of wrong input."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest
import torch
from classifier_helpers import _matrix

from xaitk_wcam.classifiers import HuggingFaceImageClassifier
from xaitk_wcam.classifiers.onnx_runtime import EXTRA_HINT
from xaitk_wcam.utils.extras import MissingExtraError

pytest.importorskip("onnxruntime", reason="the onnx extra is part of the dev install")

#: The issue's promise: probabilities within this of the torch path, identical top-1.
TOLERANCE = 1e-5
OFFLINE = ("efficientnet-lite0", "scale-shapes-standard", "scale-shapes-robust")


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx_cache")


@pytest.fixture(scope="session")
def offline_pair(onnx_cache):
    """name -> (torch classifier, ONNX Runtime classifier); each model exported once per session."""
    pairs = {}

    def get(name: str):
        if name not in pairs:
            kwargs = {"device": "cpu", "batch_size": 64}
            pairs[name] = (
                HuggingFaceImageClassifier(name, **kwargs),
                HuggingFaceImageClassifier(name, **kwargs, backend="onnxruntime", cache_dir=str(onnx_cache)),
            )
        return pairs[name]

    return get


def _probabilities(classifier, images):
    return _matrix(classifier.classify_images(images), classifier.get_labels())


@pytest.mark.slow
@pytest.mark.parametrize("name", OFFLINE)
@pytest.mark.parametrize("n", [1, 64])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_probabilities_equal_torch(offline_pair, name, n, dtype):
    torch_clf, onnx_clf = offline_pair(name)
    rng = np.random.default_rng(n)
    # the offline models' own input size, and (one image) a size they resize from (torch resizes before the graph)
    side = 224 if name == "efficientnet-lite0" else 64
    for shape in ((n, side, side, 3), (1, side + 13, side - 7, 3))[: 2 if n == 1 else 1]:
        images = rng.integers(0, 256, shape, dtype=np.uint8)
        if dtype == "float32":
            images = (images / 255.0).astype(np.float32)
        expected, got = _probabilities(torch_clf, images), _probabilities(onnx_clf, images)
        assert got.shape == expected.shape == (n, len(torch_clf.get_labels()))
        assert np.abs(got - expected).max() <= TOLERANCE
        assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


@pytest.mark.slow
def test_maite_call_and_config_round_trip(offline_pair, onnx_cache):
    torch_clf, onnx_clf = offline_pair("scale-shapes-standard")
    config = onnx_clf.get_config()
    assert config["backend"] == "onnxruntime" and config["cache_dir"] == str(onnx_cache)
    again = HuggingFaceImageClassifier.from_config(config)
    assert again.get_config() == config and not again._graph.exported  # read from the cache
    batch = np.random.default_rng(0).integers(0, 256, (3, 3, 64, 64), dtype=np.uint8)  # N x C x H x W
    np.testing.assert_allclose(np.stack(again(batch)), np.stack(torch_clf(batch)), atol=TOLERANCE)


@pytest.mark.slow
def test_threads_follow_torch_unless_given(offline_pair, onnx_cache):
    _, onnx_clf = offline_pair("scale-shapes-robust")
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert onnx_clf._graph.session().get_session_options().intra_op_num_threads == 1
        torch.set_num_threads(2)
        assert onnx_clf._graph.session().get_session_options().intra_op_num_threads == 2
    finally:
        torch.set_num_threads(previous)
    fixed = HuggingFaceImageClassifier(
        "scale-shapes-robust",
        device="cpu",
        backend="onnxruntime",
        cache_dir=str(onnx_cache),
        threads=2,
        execution_mode="parallel",
    )
    options = fixed._graph.session().get_session_options()
    assert options.intra_op_num_threads == 2 and "PARALLEL" in str(options.execution_mode)


@pytest.fixture
def model_copy(tiny_resnet_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_resnet_dir, folder)
    return folder


@pytest.mark.slow
def test_changed_model_files_are_exported_again(model_copy, tmp_path):
    from transformers import ResNetForImageClassification

    cache = tmp_path / "cache"
    first = HuggingFaceImageClassifier(str(model_copy), device="cpu", backend="onnxruntime", cache_dir=str(cache))
    assert first._graph.exported and [p.name for p in cache.iterdir()] == [first._graph.path.name]
    second = HuggingFaceImageClassifier(str(model_copy), device="cpu", backend="onnxruntime", cache_dir=str(cache))
    assert not second._graph.exported and second._graph.path == first._graph.path

    model = ResNetForImageClassification.from_pretrained(model_copy)
    with torch.no_grad():
        model.classifier[-1].bias += 1.0 + torch.arange(len(model.config.id2label), dtype=torch.float32)
    model.save_pretrained(model_copy)  # same folder, new weights: the cached graph is stale

    third = HuggingFaceImageClassifier(str(model_copy), device="cpu", backend="onnxruntime", cache_dir=str(cache))
    assert third._graph.exported and third._graph.path != first._graph.path
    images = np.random.default_rng(0).integers(0, 256, (4, 50, 60, 3), dtype=np.uint8)
    reference = HuggingFaceImageClassifier(str(model_copy), device="cpu")
    np.testing.assert_allclose(_probabilities(third, images), _probabilities(reference, images), atol=TOLERANCE)
    assert np.abs(_probabilities(third, images) - _probabilities(first, images)).max() > 1e-3  # not the stale graph


@pytest.mark.slow
def test_whitebox_methods_keep_the_torch_model(tiny_resnet_dir, tmp_path):
    from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.gradients import VanillaGradients

    image = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    torch_clf = HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu")
    onnx_clf = HuggingFaceImageClassifier(
        str(tiny_resnet_dir), device="cpu", backend="onnxruntime", cache_dir=str(tmp_path)
    )
    assert isinstance(onnx_clf.model, torch.nn.Module)
    np.testing.assert_array_equal(
        VanillaGradients().generate(image, onnx_clf, [1]), VanillaGradients().generate(image, torch_clf, [1])
    )


def test_wrong_backend_is_refused_before_loading():
    with pytest.raises(ValueError, match=r"backend must be one of \['onnxruntime', 'torch'\], got 'tensorflow'"):
        HuggingFaceImageClassifier("/no/such/folder", backend="tensorflow")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threads": 2}, "apply to backend='onnxruntime' only"),
        ({"cache_dir": "/tmp"}, "apply to backend='onnxruntime' only"),
        ({"backend": "onnxruntime", "execution_mode": "fast"}, "execution_mode must be one of"),
        ({"backend": "onnxruntime", "threads": 0}, "threads must be an int >= 1"),
    ],
)
def test_wrong_settings_are_refused_before_loading(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HuggingFaceImageClassifier("/no/such/folder", **kwargs)


@pytest.mark.parametrize("package", ["onnxruntime", "onnxscript"])
def test_missing_extra_names_it_before_loading(monkeypatch, package):
    monkeypatch.setitem(sys.modules, package, None)  # import fails as if not installed
    with pytest.raises(MissingExtraError, match=rf"needs the 'onnx' extra \({package} not installed\)") as error:
        HuggingFaceImageClassifier("/no/such/folder", backend="onnxruntime")
    assert EXTRA_HINT in str(error.value)


@pytest.mark.slow
def test_unexportable_model_is_a_clear_error(model_copy, tmp_path, monkeypatch):
    from transformers import ResNetForImageClassification

    forward = ResNetForImageClassification.forward

    def data_dependent(self, pixel_values=None, **kwargs):  # a branch on a value: torch.export refuses it
        if pixel_values.mean() > 0:
            pixel_values = pixel_values * 2
        return forward(self, pixel_values=pixel_values, **kwargs)

    monkeypatch.setattr(ResNetForImageClassification, "forward", data_dependent)
    with pytest.raises(RuntimeError, match=r"could not be exported to ONNX .*backend='torch' runs it"):
        HuggingFaceImageClassifier(str(model_copy), device="cpu", backend="onnxruntime", cache_dir=str(tmp_path))
    assert not list(tmp_path.glob("*.onnx"))  # nothing half-written is cached
    torch_clf = HuggingFaceImageClassifier(str(model_copy), device="cpu")  # the torch backend runs it
    assert len(list(torch_clf.classify_images(np.zeros((2, 64, 64, 3), np.uint8)))) == 2


def test_size_depending_on_the_image_is_refused(model_copy, tmp_path):
    processor = {
        "image_processor_type": "ViTImageProcessor",
        "do_resize": True,
        "size": {"shortest_edge": 64},
        "resample": 2,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
    }
    (model_copy / "preprocessor_config.json").write_text(json.dumps(processor))
    with pytest.raises(ValueError, match=r"depends on each image.*use backend='torch'"):
        HuggingFaceImageClassifier(str(model_copy), device="cpu", backend="onnxruntime", cache_dir=str(tmp_path))


#: WCAM maps with ONNX Runtime vs torch (maps in [0, 1]): not bit-identical (the probabilities differ in the
#: last bits), equal within this; measured at most 8.5e-6 (4 ScaleShapes images x importance and Jansen).
MAP_TOLERANCE = 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["importance", "jansen"])
def test_wcam_maps_equal_torch_within_tolerance(offline_pair, estimator):
    from xaitk_wcam import WCAM
    from xaitk_wcam.datasets import scale_shapes

    torch_clf, onnx_clf = offline_pair("scale-shapes-standard")
    image = scale_shapes(1, seed=1, split="test")[0].image
    wcam = WCAM(grid_size=8, levels=2, nb_design=8, estimator=estimator, seed=0)  # 528 passes per backend
    expected, got = wcam.explain(image, torch_clf), wcam.explain(image, onnx_clf)
    scale = np.abs(expected.sobol_indices).max()
    assert np.abs(got.sobol_indices - expected.sobol_indices).max() <= MAP_TOLERANCE * scale
    assert np.abs(got.wavelet_maps - expected.wavelet_maps).max() <= MAP_TOLERANCE
    assert np.abs(got.spatial_maps - expected.spatial_maps).max() <= MAP_TOLERANCE
    np.testing.assert_allclose(got.scale_profile, expected.scale_profile, atol=MAP_TOLERANCE)


# ---------------------------------------------------------------- the graph cache: issue 29, causes 5, 6, 13-16
def _torch_probabilities(classifier, images):
    """The classifier's own torch path (its live model), whatever its backend."""
    with torch.inference_mode():
        return classifier.probabilities(classifier.preprocess(images)).numpy()


def _onnx(folder, cache, **kwargs):
    return HuggingFaceImageClassifier(str(folder), device="cpu", backend="onnxruntime", cache_dir=str(cache), **kwargs)


IMAGES = np.random.default_rng(7).integers(0, 256, (4, 50, 60, 3), dtype=np.uint8)


@pytest.mark.slow
def test_the_cache_key_covers_library_versions_and_the_models_code(model_copy, monkeypatch):
    """The key had no transformers version and no model code (only the class name): a changed forward with the same
    config and weights reused the stale graph. It must also be the same in every process (no hash-seeded order)."""
    import os
    import subprocess
    import textwrap

    from transformers import ResNetForImageClassification

    from xaitk_wcam.classifiers import onnx_runtime
    from xaitk_wcam.classifiers.onnx_runtime import graph_key

    model = ResNetForImageClassification.from_pretrained(model_copy).eval()
    args = (torch.ones(3), torch.zeros(3), (64, 64, 3), False)
    key = graph_key(model, *args)
    assert graph_key(model, *args) == key
    version = onnx_runtime.metadata.version
    for package in ("transformers", "onnx", "onnxscript"):
        with monkeypatch.context() as patch:
            patch.setattr(
                onnx_runtime.metadata, "version", lambda name, p=package: "0.0" if name == p else version(name)
            )
            assert graph_key(model, *args) != key, package
    with monkeypatch.context() as patch:
        patch.setattr(torch, "__version__", "0.0")
        assert graph_key(model, *args) != key
    forward = ResNetForImageClassification.forward
    with monkeypatch.context() as patch:  # the class's code changed, same config and weights
        patch.setattr(ResNetForImageClassification, "forward", lambda self, **kw: forward(self, **kw))
        assert graph_key(model, *args) != key
    with monkeypatch.context() as patch:  # one instance's forward replaced
        patch.setattr(model, "forward", lambda **kw: forward(model, **kw), raising=False)
        assert graph_key(model, *args) != key
    handle = model.classifier.register_forward_hook(lambda module, inputs, output: output * 2)
    assert graph_key(model, *args) != key
    handle.remove()
    assert graph_key(model, *args) == key
    script = textwrap.dedent(f"""
        import torch
        from transformers import ResNetForImageClassification
        from xaitk_wcam.classifiers.onnx_runtime import graph_key
        model = ResNetForImageClassification.from_pretrained({str(model_copy)!r}).eval()
        print(graph_key(model, torch.ones(3), torch.zeros(3), (64, 64, 3), False))
    """)
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        assert out.stdout.strip() == key  # the same key in every process


@pytest.mark.slow
def test_a_changed_forward_with_the_same_config_and_weights_is_exported_again(model_copy, tmp_path, monkeypatch):
    from transformers import ResNetForImageClassification

    first = _onnx(model_copy, tmp_path)
    forward = ResNetForImageClassification.forward

    def reversed_logits(self, pixel_values=None, **kwargs):
        output = forward(self, pixel_values=pixel_values, **kwargs)
        output.logits = output.logits.flip(-1)  # the same weights and config, another prediction
        return output

    monkeypatch.setattr(ResNetForImageClassification, "forward", reversed_logits)
    second = _onnx(model_copy, tmp_path)
    assert second._graph.exported and second._graph.path != first._graph.path
    expected = _torch_probabilities(second, IMAGES)
    np.testing.assert_allclose(_probabilities(second, IMAGES), expected, atol=TOLERANCE)
    np.testing.assert_allclose(_probabilities(first, IMAGES), expected, atol=TOLERANCE)  # the first follows too


@pytest.mark.slow
def test_a_model_changed_in_place_is_not_run_through_a_stale_graph(model_copy, tmp_path):
    """The graph was built once and kept after ``clf.model`` was edited (ONNX top-1 3, torch 0)."""
    classifier = _onnx(model_copy, tmp_path)
    before = _probabilities(classifier, IMAGES)
    head = classifier.model.classifier[-1]
    original = {k: v.clone() for k, v in classifier.model.state_dict().items()}
    with torch.no_grad():
        head.bias += 3.0 * torch.arange(len(head.bias), dtype=torch.float32)  # in place, through torch
    changed = _probabilities(classifier, IMAGES)
    np.testing.assert_allclose(changed, _torch_probabilities(classifier, IMAGES), atol=TOLERANCE)
    assert np.abs(changed - before).max() > 0.1 and classifier._graph.exported
    classifier.model.classifier[-1] = torch.nn.Linear(head.in_features, head.out_features)  # a module replaced
    np.testing.assert_allclose(_probabilities(classifier, IMAGES), _torch_probabilities(classifier, IMAGES), atol=1e-5)
    classifier.model.classifier[-1] = head
    classifier.model.load_state_dict(original)  # back to the files: the first graph, read from the cache
    np.testing.assert_allclose(_probabilities(classifier, IMAGES), before, atol=TOLERANCE)
    assert not classifier._graph.exported


@pytest.mark.slow
def test_a_cached_graph_is_read_only_when_it_holds_its_key_and_a_corrupt_one_is_found_at_start(model_copy, tmp_path):
    """A cached graph was not checked when read (another model's graph under the key was used), and a corrupt one
    failed item by item (every row an error, exit 0). Both are found when the classifier is built, and exported
    again."""
    import shutil

    from transformers import ResNetForImageClassification

    other = tmp_path / "other"
    shutil.copytree(model_copy, other)
    model = ResNetForImageClassification.from_pretrained(other)
    with torch.no_grad():
        model.classifier[-1].bias += torch.arange(len(model.config.id2label), dtype=torch.float32)
    model.save_pretrained(other)
    cache = tmp_path / "cache"
    mine, theirs = _onnx(model_copy, cache)._graph.path, _onnx(other, cache)._graph.path
    shutil.copyfile(theirs, mine)  # another model's graph under this model's key
    with pytest.warns(RuntimeWarning, match=r"holds the key '[0-9a-f]{40}', not its file's.*exporting the model again"):
        classifier = _onnx(model_copy, cache)
    assert classifier._graph.exported
    np.testing.assert_allclose(_probabilities(classifier, IMAGES), _torch_probabilities(classifier, IMAGES), atol=1e-5)
    mine.write_bytes(b"not an onnx graph")  # corrupt
    with pytest.warns(RuntimeWarning, match=r"could not read the cached graph .*exporting the model again"):
        classifier = _onnx(model_copy, cache)  # found here, before any image
    np.testing.assert_allclose(_probabilities(classifier, IMAGES), _torch_probabilities(classifier, IMAGES), atol=1e-5)
    assert not _onnx(model_copy, cache)._graph.exported  # the repaired graph is read back


@pytest.mark.slow
def test_a_killed_export_leaves_no_temporary_file_behind(model_copy, tmp_path):
    """A kill during export left a hidden temporary graph (``.model_std-<key>-*.onnx``) for ever: the next classifier
    built on the cache folder removes those of processes that are gone, and keeps a running export's."""
    import os
    import signal
    import subprocess
    import textwrap
    import time

    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        from xaitk_wcam.classifiers import HuggingFaceImageClassifier
        HuggingFaceImageClassifier({str(model_copy)!r}, device="cpu", backend="onnxruntime", cache_dir={str(cache)!r})
    """)
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 120
    while not list(cache.glob(".*.tmp")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)  # mid-export: nothing of the process can clean up
    process.wait()
    left = list(cache.glob(".*.tmp"))
    assert left, "the export ended before it could be killed"
    running = cache / f".graph.onnx.{left[0].name.split('.')[-4]}.{os.getpid()}.{'0' * 16}.tmp"
    running.write_bytes(b"")  # a running export's temporary (this process): kept
    legacy = cache / f".model_std-{'a' * 40}-abc12_xy.onnx"
    legacy.write_bytes(b"")  # what 0.3 left, a day old
    os.utime(legacy, (time.time() - 2 * 86400,) * 2)
    classifier = _onnx(model_copy, cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted([classifier._graph.path.name, running.name])


@pytest.mark.slow
def test_cached_files_get_the_users_umask(model_copy, tmp_path):
    """The exported graph was written 0600 (mkstemp) and the EfficientNet folder 0700 (mkdtemp), whatever the umask,
    unlike every other output."""
    import os
    import stat

    from xaitk_wcam.models._export import export_efficientnet_lite0

    previous = os.umask(0o027)
    try:
        graph = _onnx(model_copy, tmp_path / "cache")._graph.path
        folder = export_efficientnet_lite0(tmp_path / "models")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(graph.stat().st_mode) == 0o640
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o640}
