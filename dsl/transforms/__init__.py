"""Transformations: IR -> IR functions (ad, batching, pmap, simplification) and the
function objects (`grad(f)`, `vmap(f)`, ...) that trace, transform and run programs."""
