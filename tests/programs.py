"""jx programs shared by several test modules: small differentiable functions that
cover arithmetic, reductions, indexing, updates and native control flow."""

DIFFERENTIABLE = """
def poly(x) = sum(-4*x*x*x + 9*x*x + 6*x - 3)
def trig(x) = sum(sin(x) * cos(2.0 * x) + tanh(x))
def expo(x) = sum(exp(x * 0.3) / (1.0 + x * x))
def logs(x) = sum(log1p(x * x) + sqrt(x * x + 1.0))
def mat(x) = sum((reshape(x, (2, 3)) @ reshape(x, (3, 2))) ** 2)
def reduce_max(x) = max(x * x) + mean(x)
def soft(x) = log(sum(exp(x)))
def indexing(x) = x[0] * x[2] + sum(x[1:] ** 2) + x[-1]
def update(x) = sum(x.at[1].set(x[0] * 3.0) ** 2)
def gathers(x) = sum(x[array([0, 2, 2, 1])] * x[array([1, 1, 0, 3])])
def where_(x) = sum(where(x > 0.0, x * x, -x))
def branchy(x):
    s = sum(x)
    if s > 0.0:
        y = s * s
    else:
        y = -s
    return y + x[0]
def loopy(x):
    acc = 0.0
    for i in range(4):
        acc = acc + x[i] * acc + x[i]
    return acc
def scanned(x):
    acc = 1.0
    for row in reshape(x, (6, 1)):
        acc = acc * (1.0 + row[0] * 0.5)
    return acc
def comp(x) = sum(array([v * v for v in x]))
def pw(x) = sum(abs(x) ** 1.5)
"""
