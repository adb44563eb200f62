"""One Lax-Friedrichs step of the 1-D shallow-water equations for h and hu."""

FAMILY = "fluid"
KERNEL = "shallow_water1d"
SETUP = "import numpy as np\nrng = np.random.default_rng(206)\nh = 1.0 + 0.1 * rng.random({n})\nhu = 0.1 * rng.standard_normal({n})\ndel rng"
CALL = "shallow_water1d(h, hu, 0.05)"
SIZES = {"small": {"n": 2000}, "medium": {"n": 8000}, "large": {"n": 30000}}
SHAPES = {"h": ["n"], "hu": ["n"]}


def shallow_water1d(h, hu, dtdx):
    """Lax-Friedrichs update of (h, hu) with fluxes (hu, hu^2/h + g h^2/2); fixed ends."""
    g = 9.81
    n = h.shape[0]
    h_new = h.copy()
    hu_new = hu.copy()
    for i in range(1, n - 1):
        f1_left = hu[i - 1]
        f2_left = hu[i - 1] * hu[i - 1] / h[i - 1] + 0.5 * g * h[i - 1] * h[i - 1]
        f1_right = hu[i + 1]
        f2_right = hu[i + 1] * hu[i + 1] / h[i + 1] + 0.5 * g * h[i + 1] * h[i + 1]
        h_new[i] = 0.5 * (h[i - 1] + h[i + 1]) - 0.5 * dtdx * (f1_right - f1_left)
        hu_new[i] = 0.5 * (hu[i - 1] + hu[i + 1]) - 0.5 * dtdx * (f2_right - f2_left)
    return h_new, hu_new
