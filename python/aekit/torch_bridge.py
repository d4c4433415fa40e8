"""Model.state_dict / to_torch and aekit.from_torch: weights as NumPy
arrays named as PyTorch names them, and the equivalent torch.nn.Module.

(Filled in by the PyTorch step of issue 11.)"""


class TorchMixin:
    """The PyTorch methods of aekit.Model."""


def from_torch(module, *args, **kwargs):
    raise NotImplementedError("aekit.from_torch: not built yet")
