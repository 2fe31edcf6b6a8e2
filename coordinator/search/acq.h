/*
 * acq.h — the acquisition function of GP-BO: Log Expected Improvement,
 * computed so that it stays finite and accurate far into the tail where
 * EI itself underflows (Ament et al., "Unexpected improvements to expected
 * improvement", NeurIPS 2023), and its derivative.
 *
 * For minimisation with posterior mean mu, standard deviation sigma and
 * incumbent best:
 *     z  = (best - mu) / sigma
 *     EI = sigma * h(z),   h(z) = z Phi(z) + phi(z)
 *     LogEI = log sigma + log h(z)
 *
 *     double lei = hp_acq_logei(mu, sigma, best);
 *
 * Pure functions: thread-safe.
 */
#ifndef HP_ACQ_H
#define HP_ACQ_H

/* hp_acq_log_h returns log(z Phi(z) + phi(z)) for any finite z: exact where
 * h is representable, and -z^2/2 - log(2 pi)/2 - 2 log|z| + ... deep in the
 * left tail, never -inf or NaN. */
double hp_acq_log_h(double z);

/* hp_acq_dlog_h returns d log h / dz = Phi(z) / h(z), stable for z -> -inf
 * (where it tends to |z|). */
double hp_acq_dlog_h(double z);

/* hp_acq_logei returns log EI for minimisation (sigma > 0). */
double hp_acq_logei(double mu, double sigma, double best);

/* hp_acq_erfcx returns exp(x^2) erfc(x), the scaled complementary error
 * function, accurate for all x >= 0 (and correct but possibly overflowing
 * for x < -26). */
double hp_acq_erfcx(double x);

#endif
