"""Network bodies: the architectures of DQNimb Tables II and III and the automatic pick."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.networks import ImageCNN, MLPBody, TextNet, make_body, make_network, network_kind


def test_table_iii_cnn_shapes():
    net = make_network(spaces.Box(0, 255, (1, 28, 28), np.uint8), 2)
    body = net[0]
    assert isinstance(body, ImageCNN)
    assert body.fc[0].in_features == 1568  # Table III: flatten 7*7*32
    assert [m.kernel_size for m in body.conv if isinstance(m, torch.nn.Conv2d)] == [(5, 5), (5, 5)]
    out = net(torch.zeros(3, 1, 28, 28, dtype=torch.uint8))
    assert out.shape == (3, 2)
    cifar = make_body(spaces.Box(0, 255, (3, 32, 32), np.uint8))
    assert cifar.fc[0].in_features == 2048  # Table III: flatten 8*8*32
    assert cifar.out_features == 256


def test_table_ii_text_net():
    space = spaces.Box(0, 9999, (500,), np.int64)
    net = make_network(space, 2)
    assert isinstance(net[0], TextNet)
    assert net[0].embed.embedding_dim == 64 and net[0].fc[0].in_features == 32000
    assert net[0].out_features == 250
    assert net(torch.zeros(2, 500, dtype=torch.int64)).shape == (2, 2)


def test_mlp_for_features_and_auto_pick():
    space = spaces.Box(-np.inf, np.inf, (7,), np.float32)
    assert network_kind(space) == "mlp"
    body = make_body(space, hidden_sizes=(32, 16))
    assert isinstance(body, MLPBody) and body.out_features == 16
    assert make_network(space, 3)(torch.zeros(4, 7)).shape == (4, 3)
    # an MLP also fits flattened images when asked for explicitly
    img = spaces.Box(0, 255, (1, 8, 8), np.uint8)
    assert make_body(img, "mlp").in_features == 64


@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_uint8_images_are_scaled(kind):
    body = make_body(spaces.Box(0, 255, (1, 28, 28), np.uint8), kind)
    x = torch.full((1, 1, 28, 28), 255, dtype=torch.uint8)
    torch.testing.assert_close(body(x), body(torch.ones(1, 1, 28, 28)))


@pytest.mark.parametrize(
    "space, kind, match",
    [
        (spaces.Box(0, 9, (5,), np.int64), "cnn", "does not fit"),
        (spaces.Box(0, 9, (5,), np.int64), "mlp", "token"),
        (spaces.Box(0, 1, (5,), np.float32), "transformer", "network must be one of"),
        (spaces.Discrete(3), "auto", "expected a Box"),
        (spaces.Box(0, 1, (2, 5), np.float32), "auto", "no network for observation shape"),
    ],
)
def test_unknown_or_unfit_network_is_a_clear_error(space, kind, match):
    with pytest.raises(ValueError, match=match):
        make_body(space, kind)


def test_make_adam_steps_like_plain_adam():
    from agents.networks import make_adam

    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    opt_a, opt_b = make_adam(a.parameters(), 1e-2), torch.optim.Adam(b.parameters(), lr=1e-2)
    x = torch.randn(8, 4)
    for net, opt in ((a, opt_a), (b, opt_b)):
        for _ in range(3):
            opt.zero_grad()
            net(x).pow(2).sum().backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)
