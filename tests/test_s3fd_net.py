"""S3FDNet: the official key layout (spec §4.3), strict loading, and refusal of bad files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from voxrepro.detect.s3fd_box import feature_map_sizes
from voxrepro.detect.s3fd_net import S3FDNet, expected_s3fd_shapes, load_s3fd
from voxrepro.errors import ModelError

VGG_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33)


def official_key_names() -> set[str]:
    """The 65 key names of sfd_face.pth, spelled out from the spec's tables."""
    keys = {f"vgg.{i}.{p}" for i in VGG_CONVS for p in ("weight", "bias")}
    keys |= {"L2Norm3_3.weight", "L2Norm4_3.weight", "L2Norm5_3.weight"}
    keys |= {f"extras.{i}.{p}" for i in range(4) for p in ("weight", "bias")}
    keys |= {
        f"{head}.{i}.{p}" for head in ("loc", "conf") for i in range(6) for p in ("weight", "bias")
    }
    return keys


@pytest.fixture(scope="module")
def random_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return S3FDNet().state_dict()


@pytest.fixture()
def save(tmp_path: Path) -> Iterator:
    """Save a state dict to a file (90 MB each: deleted again after the test)."""
    written: list[Path] = []

    def _save(state: dict, name: str) -> Path:
        path = tmp_path / name
        torch.save(state, path)
        written.append(path)
        return path

    yield _save
    for path in written:
        path.unlink(missing_ok=True)


def test_state_dict_has_exactly_the_official_65_keys() -> None:
    shapes = expected_s3fd_shapes()
    assert len(shapes) == 65
    assert set(shapes) == official_key_names()
    spot_checks = {
        "vgg.0.weight": (64, 3, 3, 3),
        "vgg.31.weight": (1024, 512, 3, 3),  # fc6
        "vgg.33.weight": (1024, 1024, 1, 1),  # fc7
        "L2Norm3_3.weight": (256,),
        "L2Norm5_3.weight": (512,),
        "extras.1.weight": (512, 256, 3, 3),
        "extras.3.weight": (256, 128, 3, 3),
        "loc.3.weight": (4, 1024, 3, 3),
        "conf.0.weight": (4, 256, 3, 3),  # max-out background head
        "conf.1.weight": (2, 512, 3, 3),
        "conf.5.bias": (2,),
    }
    for key, shape in spot_checks.items():
        assert shapes[key] == shape, key


def test_layer_details_that_change_numbers() -> None:
    net = S3FDNet()
    assert len(net.vgg) == 35
    assert net.vgg[16].ceil_mode is True and net.vgg[23].ceil_mode is False
    assert net.vgg[31].dilation == (6, 6) and net.vgg[31].padding == (6, 6)
    assert net.extras[1].stride == (2, 2) and net.extras[3].padding == (1, 1)
    for name, scale in (("L2Norm3_3", 10.0), ("L2Norm4_3", 8.0), ("L2Norm5_3", 5.0)):
        assert torch.all(getattr(net, name).weight == scale)


@pytest.mark.parametrize("size", [(180, 320), (97, 131), (64, 64)])
def test_source_map_sizes_match_the_formula(size: tuple[int, int]) -> None:
    net = S3FDNet().eval()
    with torch.inference_mode():
        loc, conf, sizes = net(torch.zeros(1, 3, *size))
    assert sizes == feature_map_sizes(*size)
    total = sum(h * w for h, w in sizes)
    assert loc.shape == (1, total, 4) and conf.shape == (1, total, 2)


def test_conf0_uses_max_out_background() -> None:
    torch.manual_seed(1)
    net = S3FDNet().eval()
    x = torch.randn(1, 3, 64, 96) * 50
    with torch.inference_mode():
        _, conf, sizes = net(x)
        raw = net.conf[0](net.sources(x)[0])  # (1, 4, h, w)
    h, w = sizes[0]
    first = conf[0, : h * w].reshape(h, w, 2)
    torch.testing.assert_close(first[..., 0], raw[0, :3].amax(dim=0))
    torch.testing.assert_close(first[..., 1], raw[0, 3])


def test_random_init_checkpoint_with_official_layout_loads(random_state, save) -> None:
    path = save(random_state, "sfd_face.pth")
    net = load_s3fd(path, "cpu")
    assert not net.training
    for key, value in net.state_dict().items():
        assert torch.equal(value, random_state[key]), key


def test_wrong_shape_is_refused_naming_file_key_and_both_shapes(random_state, save) -> None:
    bad = dict(random_state)
    bad["conf.0.weight"] = torch.zeros(2, 256, 3, 3)
    path = save(bad, "wrong_shape.pth")
    with pytest.raises(ModelError) as info:
        load_s3fd(path)
    message = str(info.value)
    assert str(path) in message and "conf.0.weight" in message
    assert "(2, 256, 3, 3)" in message and "(4, 256, 3, 3)" in message
    assert "\n" not in message


def test_missing_key_is_refused(random_state, save) -> None:
    bad = {k: v for k, v in random_state.items() if k != "L2Norm4_3.weight"}
    path = save(bad, "missing.pth")
    with pytest.raises(ModelError, match=r"L2Norm4_3\.weight.*missing"):
        load_s3fd(path)


def test_extra_key_is_refused(random_state, save) -> None:
    bad = {**random_state, "vgg.35.weight": torch.zeros(3)}
    path = save(bad, "extra.pth")
    with pytest.raises(ModelError, match=r"unexpected key 'vgg\.35\.weight'"):
        load_s3fd(path)


def test_unreadable_and_absent_files_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match="not a readable torch weights file"):
        load_s3fd(junk)
    with pytest.raises(ModelError, match="not found"):
        load_s3fd(tmp_path / "absent.pth")
    not_a_dict = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], not_a_dict)
    with pytest.raises(ModelError, match="state dict"):
        load_s3fd(not_a_dict)
