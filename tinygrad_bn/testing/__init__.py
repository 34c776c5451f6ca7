"""Tools for testing gradients and ops: finite-difference checks, hypothesis strategies, assert_close.

    import tinygrad_bn as tb
    from tinygrad_bn.testing import gradcheck

    x = tb.randn(3, 4, dtype=tb.float64, requires_grad=True)
    assert gradcheck(lambda t: (t * t).sum(dim=1), [x])

The strategies need the ``hypothesis`` package (``pip install tinygrad_bn[test]``).
"""

from tinygrad_bn.testing.assertions import assert_close
from tinygrad_bn.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "assert_close", "gradcheck", "gradgradcheck"]
