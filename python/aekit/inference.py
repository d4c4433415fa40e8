"""Model.encode / decode / reconstruct / sample: NumPy in, NumPy out.

(Filled in by the inference step of issue 11.)"""


class InferenceMixin:
    """The inference methods of aekit.Model."""
