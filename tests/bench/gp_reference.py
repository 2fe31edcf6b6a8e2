"""The scikit-learn GP-EI reference of issue 5, shared by bench_gp_speed.py
and bench_search_quality.py: GaussianProcessRegressor with Matérn-5/2 ARD
+ white noise (2 optimizer restarts, normalized outputs), EI maximised from
10,000 random candidates followed by L-BFGS-B from the best one. Inputs in
[0,1]^d, minimisation."""
import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

# bound and convergence warnings by the thousand: the reference is run as is
warnings.filterwarnings("ignore")


def suggest(X, y, rng, n_candidates=10000):
    d = X.shape[1]
    kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.ones(d), (1e-3, 1e3), nu=2.5)
              + WhiteKernel(1e-5, (1e-10, 1e0)))
    gp = GaussianProcessRegressor(kernel, n_restarts_optimizer=2, normalize_y=True,
                                  random_state=int(rng.integers(2**31)))
    gp.fit(X, y)
    best = y.min()

    def neg_ei(x):
        x = np.atleast_2d(x)
        mu, sd = gp.predict(x, return_std=True)
        sd = np.maximum(sd, 1e-12)
        z = (best - mu) / sd
        return -(sd * (z * norm.cdf(z) + norm.pdf(z)))

    cand = rng.uniform(size=(n_candidates, d))
    ei = neg_ei(cand)
    x0 = cand[np.argmin(ei)]
    res = minimize(lambda x: neg_ei(x)[0], x0, method="L-BFGS-B", bounds=[(0, 1)] * d)
    return res.x if res.fun <= ei.min() else x0
