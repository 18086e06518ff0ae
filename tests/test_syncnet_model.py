"""SyncNet v2 layout and loader (spec §8.1): key names, shapes, strictness, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from voxrepro.errors import ModelError
from voxrepro.syncnet.model import (
    SyncNetV2,
    expected_syncnet_shapes,
    find_state_problems,
    load_syncnet,
    make_random_syncnet,
)

BN_INDICES_CNN = {1, 5, 9, 12, 15, 19}
PARAM_INDICES_CNN = {0, 1, 4, 5, 8, 9, 11, 12, 14, 15, 18, 19}


def official_layout_state(seed: int = 1) -> dict[str, torch.Tensor]:
    """A random-init state dict as the official file stores it: 88 keys, no counters."""
    torch.manual_seed(seed)
    model = SyncNetV2()
    with torch.no_grad():  # make BN statistics non-default so that loading them is visible
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def test_layout_has_102_keys_of_which_14_counters() -> None:
    all_keys = expected_syncnet_shapes(include_num_batches_tracked=True)
    required = expected_syncnet_shapes()
    assert len(all_keys) == 102
    assert len(required) == 88
    counters = [k for k in all_keys if k.endswith("num_batches_tracked")]
    assert len(counters) == 14
    assert set(all_keys) - set(required) == set(counters)


def test_layout_indices_and_shapes_match_spec() -> None:
    shapes = expected_syncnet_shapes()
    assert shapes["netcnnlip.0.weight"] == (96, 3, 5, 7, 7)
    assert shapes["netcnnaud.18.weight"] == (512, 256, 5, 4)
    assert shapes["netfclip.3.weight"] == (1024, 512)
    assert shapes["netfcaud.0.weight"] == (512, 512)
    assert shapes["netfcaud.1.running_var"] == (512,)
    assert shapes["netcnnlip.4.weight"] == (256, 96, 1, 5, 5)
    assert shapes["netcnnlip.18.weight"] == (512, 256, 1, 6, 6)
    for stream in ("netcnnaud", "netcnnlip"):
        indices = {int(k.split(".")[1]) for k in shapes if k.startswith(stream + ".")}
        assert indices == PARAM_INDICES_CNN
        bn = {int(k.split(".")[1]) for k in shapes if k.startswith(stream) and "running" in k}
        assert bn == BN_INDICES_CNN
    for head in ("netfcaud", "netfclip"):
        assert {int(k.split(".")[1]) for k in shapes if k.startswith(head + ".")} == {0, 1, 3}


def test_streams_give_1024_embeddings_and_refuse_wrong_frame_size() -> None:
    model = make_random_syncnet()
    with torch.no_grad():
        assert model.forward_aud(torch.randn(3, 1, 13, 20)).shape == (3, 1024)
        assert model.forward_lip(torch.rand(1, 3, 5, 224, 224) * 255).shape == (1, 1024)
        with pytest.raises(ValueError, match=r"exactly 224×224.*\(1, 3, 5, 112, 112\)"):
            model.forward_lip(torch.rand(1, 3, 5, 112, 112))


def test_official_layout_checkpoint_loads(tmp_path: Path) -> None:
    state = official_layout_state()
    assert len(state) == 88
    path = tmp_path / "syncnet_v2.model"
    torch.save(state, path)
    model = load_syncnet(path)
    assert not model.training
    loaded = model.state_dict()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
    # The loaded model computes with the file's weights, not a fresh init.
    reference = SyncNetV2()
    reference.load_state_dict(state, strict=False)
    reference.eval()
    mfcc = torch.randn(4, 1, 13, 20)
    with torch.no_grad():
        assert torch.allclose(model.forward_aud(mfcc), reference.forward_aud(mfcc))


def test_checkpoint_with_counters_loads(tmp_path: Path) -> None:
    path = tmp_path / "full.model"
    torch.save(make_random_syncnet(3).state_dict(), path)
    assert isinstance(load_syncnet(path), SyncNetV2)


def test_wrong_shape_is_refused_naming_file_key_and_shapes(tmp_path: Path) -> None:
    state = official_layout_state()
    state["netfclip.3.weight"] = torch.zeros(2048, 512)
    path = tmp_path / "bad_shape.model"
    torch.save(state, path)
    with pytest.raises(ModelError) as info:
        load_syncnet(path)
    message = str(info.value)
    assert str(path) in message
    assert "netfclip.3.weight" in message
    assert "[2048, 512]" in message and "[1024, 512]" in message
    assert "\n" not in message


def test_unexpected_extra_key_is_refused(tmp_path: Path) -> None:
    state = official_layout_state()
    state["netfclip.4.weight"] = torch.zeros(3)
    path = tmp_path / "extra.model"
    torch.save(state, path)
    with pytest.raises(ModelError, match=re.escape(str(path)) + r".*unexpected key netfclip\.4"):
        load_syncnet(path)


def test_missing_required_key_is_refused(tmp_path: Path) -> None:
    state = official_layout_state()
    del state["netcnnaud.19.running_mean"]
    path = tmp_path / "missing.model"
    torch.save(state, path)
    with pytest.raises(ModelError, match=r"missing key netcnnaud\.19\.running_mean"):
        load_syncnet(path)


def test_problem_list_counts_every_issue() -> None:
    state: dict[str, object] = dict(official_layout_state())
    state["netfcaud.0.bias"] = torch.zeros(7)
    state["netfcaud.3.bias"] = [0.0] * 1024
    state["__S__.netfcaud.3.bias"] = torch.zeros(1024)
    del state["netcnnlip.0.weight"]
    problems = find_state_problems(state)
    assert len(problems) == 4
    assert find_state_problems(official_layout_state()) == []


class _NotATensor:
    pass


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "not found"),
        (b"this is not a torch file", "cannot read SyncNet weights"),
        (torch.zeros(3), "expected a state dict, found Tensor"),
        ({"netfcaud.0.weight": _NotATensor()}, "cannot read SyncNet weights"),
    ],
    ids=["missing", "garbage", "tensor", "arbitrary-object"],
)
def test_unreadable_files_give_one_line_model_error(
    tmp_path: Path, content: object, expected: str
) -> None:
    path = tmp_path / "weights.model"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        torch.save(content, path)  # an arbitrary object must be refused by weights_only
    with pytest.raises(ModelError) as info:
        load_syncnet(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
