"""Scaling-law estimators and the benchmark of "Revisiting Neural Scaling Laws in Language and Vision".

>>> from scaling import load_benchmark, law_for_domain
>>> curve = load_benchmark().curve("IC", "inet_10", "BiT/101/3")        # doctest: +SKIP
>>> law = law_for_domain("M4", curve.domain).fit(curve.x_fit, curve.loss_fit)  # doctest: +SKIP
>>> law.predict(curve.x_test)                                            # doctest: +SKIP
"""

from .benchmark import load_benchmark
from .evaluate import extrapolation_rmse, rmse_standard_error, run_benchmark, win_fractions
from .laws import BNSL, LAWS, M1, M2, M3, M4, Chinchilla, ScalingLaw, law_for_domain
from ._notebook import inline_figures_in_kernels

inline_figures_in_kernels()  # a headless MPLBACKEND=Agg must not drop a notebook's figures

__version__ = "0.1.0"
__all__ = ["load_benchmark", "M1", "M2", "M3", "M4", "BNSL", "Chinchilla", "LAWS", "ScalingLaw", "law_for_domain",
           "extrapolation_rmse", "rmse_standard_error", "run_benchmark", "win_fractions"]
