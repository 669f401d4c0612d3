"""The base classes of the flows and of the autoregressive models say what a subclass must
define: one that forgets a method fails when it is built, naming the method, instead of
raising NotImplementedError somewhere in the middle of training."""
import pytest

from minigen.models.autoregressive.base import AutoregressiveModel
from minigen.models.flows.base import Flow


def test_a_flow_layer_without_its_inverse_cannot_be_built():
    class ForwardOnly(Flow):
        def forward(self, x):
            return x, 0.0

    with pytest.raises(TypeError, match="inverse"):
        ForwardOnly()
    with pytest.raises(TypeError, match="forward"):
        Flow()


def test_an_autoregressive_model_without_logits_cannot_be_built():
    class NoLogits(AutoregressiveModel):
        event_shape = (3,)

    with pytest.raises(TypeError, match="logits"):
        NoLogits()


def test_complete_subclasses_are_built():
    class Identity(Flow):
        def forward(self, x):
            return x, 0.0

        def inverse(self, z):
            return z

    class Constant(AutoregressiveModel):
        event_shape = (3,)

        def logits(self, x):
            return x * 0.0

    assert Identity().inverse(2.0) == 2.0
    assert isinstance(Constant(), AutoregressiveModel)
