"""Test kernels for the vectorize pass: sources the tests rewrite, run and compare."""

HEADER = "import numpy as np\n\n\n"

SAXPY = (
    HEADER
    + """def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out
"""
)

#: a kernel whose rewrite is proven statically: `x.shape` shows an ndarray, `out` is a
#: float64 allocation of x's length (SAXPY is not: y may be shorter, x a list or an
#: integer array)
SCALE = (
    HEADER
    + """def scale(a, x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = a * x[i] + 1.0
    return out
"""
)

#: a stencil proven statically (SMOOTH's `v = u.copy()` may be a list or an int array)
STENCIL_PROVEN = (
    HEADER
    + """def smooth(u):
    u = np.asarray(u, dtype=np.float64)
    v = u.copy()
    for i in range(1, len(u) - 1):
        v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]
    return v
"""
)

STENCIL = (
    HEADER
    + """def smooth(u):
    v = u.copy()
    for i in range(1, len(u) - 1):
        v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]
    return v
"""
)

STRIDED = (
    HEADER
    + """def pairs(x):
    n = len(x) // 2
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[2 * i] - x[2 * i + 1]
    return out
"""
)

DOT_LOCAL = (
    HEADER
    + """def dot(n):
    x = np.linspace(0.0, 1.0, n)
    y = np.random.rand(n)
    s = 0.0
    for i in range(n):
        s += x[i] * y[i]
    return s, x, y
"""
)

DOT = (
    HEADER
    + """def dot(x, y):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * y[i]
    return s
"""
)

INT_SUM = (
    HEADER
    + """def total(x):
    s = 0
    for i in range(len(x)):
        s += x[i]
    return s
"""
)

PEAK = (
    HEADER
    + """def peak(x):
    m = -np.inf
    for i in range(len(x)):
        m = max(m, x[i])
    return m
"""
)

PEAK_IF = (
    HEADER
    + """def low(x):
    m = np.inf
    for i in range(len(x)):
        if x[i] < m:
            m = x[i]
    return m
"""
)

CLIP = (
    HEADER
    + """def clip(x, lo, hi):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = min(max(x[i], lo), hi)
    return out
"""
)

WHERE = (
    HEADER
    + """def leaky(x):
    out = np.zeros(len(x))
    for i in range(len(x)):
        if x[i] > 0.0 and x[i] < 100.0:
            out[i] = x[i]
        else:
            out[i] = 0.01 * x[i]
    return out
"""
)

WHERE_NO_ELSE = (
    HEADER
    + """def floor_at(x, t):
    out = x.copy()
    for i in range(len(x)):
        if out[i] < t:
            out[i] = t
    return out
"""
)

SCATTER = (
    HEADER
    + """def hist(idx, w, nbins):
    h = np.zeros(nbins)
    for i in range(len(idx)):
        h[idx[i]] += w[i]
    return h
"""
)

COUNT = (
    HEADER
    + """def counts(idx, nbins):
    h = np.zeros(nbins, dtype=np.int64)
    for i in range(len(idx)):
        h[idx[i]] += 1
    return h
"""
)

NESTED = (
    HEADER
    + """def axpy2d(a, b):
    n, m = a.shape
    c = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            c[i, j] = 2.0 * a[i, j] - b[i, j]
    return c
"""
)

OUTER = (
    HEADER
    + """def outer(x, y):
    n = len(x)
    m = len(y)
    c = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            c[i, j] = x[i] * y[j]
    return c
"""
)

LAPLACE = (
    HEADER
    + """def laplace(u):
    n, m = u.shape
    v = np.zeros((n, m))
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            v[i, j] = u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - 4.0 * u[i, j]
    return v
"""
)

TEMP = (
    HEADER
    + """def sqdist(x, y):
    s = 0.0
    for i in range(len(x)):
        d = x[i] - y[i]
        s += d * d
    return s
"""
)

SCAN = (
    HEADER
    + """def running(x):
    c = np.zeros(len(x))
    c[0] = x[0]
    for i in range(1, len(x)):
        c[i] = c[i - 1] + x[i]
    return c
"""
)

INDEX_VALUE = (
    HEADER
    + """def ramp(n, dx):
    out = np.zeros(n)
    for i in range(n):
        out[i] = i * dx
    return out
"""
)

PARAM_BOUND = (
    HEADER
    + """def head(x, n):
    out = np.zeros(len(x))
    for i in range(n):
        out[i] = x[i] + 1.0
    return out
"""
)

#: sources that must come out unchanged (what makes each one a trap is in its name)
TRAPS = {
    "carried_dependence": """def f(a, b):
    for i in range(1, len(a)):
        a[i] = a[i - 1] * 0.5 + b[i]
""",
    "in_place_recurrence": """def f(u):
    for i in range(1, len(u) - 1):
        u[i] = 0.5 * (u[i - 1] + u[i + 1])
""",
    "break": """def f(x):
    y = x.copy()
    for i in range(len(x)):
        if x[i] < 0:
            break
        y[i] = x[i] * 2
    return y
""",
    "return": """def f(x):
    y = x.copy()
    for i in range(len(x)):
        y[i] = x[i] * 2
        if y[i] > 10:
            return y
    return y
""",
    "continue": """def f(x):
    y = x.copy()
    for i in range(len(x)):
        if x[i] < 0:
            continue
        y[i] = 1.0
    return y
""",
    "raise": """def f(x):
    y = x.copy()
    for i in range(len(x)):
        if x[i] < 0:
            raise ValueError(i)
        y[i] = 1.0
    return y
""",
    "print": """def f(x):
    y = x.copy()
    for i in range(len(x)):
        print(x[i])
        y[i] = x[i] + 1
    return y
""",
    "append": """def f(x, log):
    y = x.copy()
    for i in range(len(x)):
        log.append(i)
        y[i] = x[i] + 1
    return y
""",
    "unknown_call": """def f(x):
    y = x.copy()
    for i in range(len(x)):
        y[i] = g(x[i])
    return y
""",
    "second_name": """def f(a):
    b = a
    for i in range(1, len(a)):
        a[i] = b[i - 1] + 1.0
""",
    "view": """def f(a):
    b = a[1:]
    for i in range(len(b)):
        b[i] = a[i] + 1.0
""",
    "aliasing_parameters": """def f(a, x, y):
    for i in range(len(x)):
        y[i] = a * x[i] + y[i]
""",
    "python_int": """def f(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
""",
    "attribute_write": """def f(self, x):
    for i in range(len(x)):
        self.total = x[i]
""",
    "global_array": """def f(x):
    for i in range(len(x)):
        G[i] = x[i]
""",
    "division_in_where": """def f(x, y):
    out = x.copy()
    for i in range(len(x)):
        if y[i] != 0:
            out[i] = x[i] / y[i]
    return out
""",
    "index_after_loop": """def f(x):
    y = x.copy()
    for i in range(len(x)):
        y[i] = 0.0
    return i
""",
    "negative_start": """def f(x):
    y = x.copy()
    for i in range(len(x)):
        y[i] = x[i - 1]
    return y
""",
    "rows_and_elements": """def f(X, w):
    out = X.copy()
    for i in range(len(w)):
        out[i] = X[i] * w[i]
    return out, X[0, 0]
""",
    "python_list_with_string": """def f():
    data = ["1, 1, 1, 1"] * 50
    for i in range(0, 50, 10):
        data[i] = "2, 2, 2, 2"
    return data
""",
    "rank_generic_rows": """def f(c, n):
    tmp = np.empty((n + 1,) + c.shape[1:], dtype=c.dtype)
    for j in range(2, n):
        tmp[j + 1] = c[j] / (2 * j + 1)
    return tmp
""",
    "bound_reassigned_in_loop": """def f(x, n):
    out = x.copy()
    for i in range(n):
        n = x[i]
        out[i] = n * 2.0
    return out
""",
    "ndim_generic": """def f(c):
    out = c.copy()
    for j in range(len(c)):
        out[j] = c[j] * 2.0
    return out, c.ndim
""",
}

CUBE = (
    HEADER
    + """def cube(u):
    p, q, r = u.shape
    v = np.zeros((p, q, r))
    for i in range(p):
        for j in range(q):
            for k in range(1, r):
                v[i, j, k] = u[i, j, k] - u[i, j, k - 1]
    return v
"""
)

NEST_SUM = (
    HEADER
    + """def energy(a):
    n, m = a.shape
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += a[i, j] * a[i, j]
    return s
"""
)

INNER_ONLY = (
    HEADER
    + """def sweep(u):
    n, m = u.shape
    for i in range(1, n):
        for j in range(m):
            u[i, j] = u[i - 1, j] * 0.5 + u[i, j]
    return u
"""
)

MATVEC = (
    HEADER
    + """def matvec(A, x):
    n, m = A.shape
    y = np.zeros(n)
    for i in range(n):
        for j in range(m):
            y[i] += A[i, j] * x[j]
    return y
"""
)

COLSUM = (
    HEADER
    + """def colsum(a):
    n, m = a.shape
    out = np.ones(m)
    for i in range(n):
        for j in range(m):
            out[j] -= a[i, j]
    return out
"""
)

MATMUL = (
    HEADER
    + """def matmul(A, B):
    n, p = A.shape
    m = B.shape[1]
    C = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            for k in range(p):
                C[i, j] += A[i, k] * B[k, j]
    return C
"""
)

VECMAT = (
    HEADER
    + """def vecmat(x, A):
    n, m = A.shape
    out = np.zeros(m)
    for i in range(n):
        for j in range(m):
            out[j] += x[i] * A[i, j]
    return out
"""
)

MASKED = (
    HEADER
    + """def masked(x, mask):
    out = np.zeros(len(x))
    for i in range(len(x)):
        if mask[i]:
            out[i] = x[i]
    return out
"""
)

NOT_INT_MASK = (
    HEADER
    + """def inverted(x, mask):
    out = np.zeros(len(x))
    for i in range(len(x)):
        if not mask[i]:
            out[i] = x[i]
    return out
"""
)
