/** PyTorch clamps each log of BCE at -100 so that a probability of exactly 0 or 1 gives a finite loss. */
export const LOG_FLOOR = -100;
/** PyTorch's floor on `x(1-x)` in the input gradient of BCE. */
export const VARIANCE_FLOOR = 1e-12;
