//! pandas' `Series.rolling(w).mean()`, bit for bit (ALGORITHMS §4, §11).
//!
//! pandas keeps ONE running sum over the whole series: for each step it
//! removes the value leaving the window (Kahan-compensated with its own
//! term) and then adds the entering value (with a separate term), and
//! divides by the count. If the last `count` values added were all equal,
//! the mean is that value exactly (pandas GH#42064). The order-block
//! detector's `avg_body` must use this to match the original in every bit.

/// Streaming rolling mean over a fixed window, fed one value per candle.
#[derive(Debug, Clone)]
pub(super) struct RollingMean {
    window: usize,
    nobs: usize,
    neg_ct: usize,
    sum: f64,
    compensation_add: f64,
    compensation_remove: f64,
    same_run: usize,
    prev_value: f64,
}

impl RollingMean {
    pub(super) fn new(window: usize) -> Self {
        RollingMean {
            window,
            nobs: 0,
            neg_ct: 0,
            sum: 0.0,
            compensation_add: 0.0,
            compensation_remove: 0.0,
            same_run: 0,
            prev_value: f64::NAN,
        }
    }

    /// Advances to the next position: removes `leaving` (the value that just
    /// dropped out of the window, if any), adds `entering`, and returns the
    /// mean of the window, or NaN while fewer than `window` values are in it.
    pub(super) fn step(&mut self, leaving: Option<f64>, entering: f64) -> f64 {
        if let Some(value) = leaving {
            self.remove(value);
        }
        self.add(entering);
        self.mean()
    }

    fn add(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        self.nobs += 1;
        let y = value - self.compensation_add;
        let t = self.sum + y;
        self.compensation_add = t - self.sum - y;
        self.sum = t;
        if value.is_sign_negative() {
            self.neg_ct += 1;
        }
        if value == self.prev_value {
            self.same_run += 1;
        } else {
            self.same_run = 1;
        }
        self.prev_value = value;
    }

    fn remove(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        self.nobs = self.nobs.saturating_sub(1);
        let y = -value - self.compensation_remove;
        let t = self.sum + y;
        self.compensation_remove = t - self.sum - y;
        self.sum = t;
        if value.is_sign_negative() {
            self.neg_ct = self.neg_ct.saturating_sub(1);
        }
    }

    fn mean(&self) -> f64 {
        if self.nobs < self.window || self.nobs == 0 {
            return f64::NAN;
        }
        let result = self.sum / self.nobs as f64;
        if self.same_run >= self.nobs {
            self.prev_value
        } else if (self.neg_ct == 0 && result < 0.0) || (self.neg_ct == self.nobs && result > 0.0) {
            // All values non-negative (or all negative) but rounding flipped the sign.
            0.0
        } else {
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn means(values: &[f64], window: usize) -> Vec<f64> {
        let mut rolling = RollingMean::new(window);
        (0..values.len())
            .map(|i| {
                let leaving = i.checked_sub(window).map(|j| values[j]);
                rolling.step(leaving, values[i])
            })
            .collect()
    }

    #[test]
    fn the_mean_is_undefined_until_the_window_is_full() {
        let m = means(&[1.0, 2.0, 3.0, 4.0], 3);
        assert!(m[0].is_nan() && m[1].is_nan());
        assert_eq!(&m[2..], &[2.0, 3.0]);
    }

    #[test]
    fn identical_values_give_that_value_exactly() {
        // A naive sum of twenty 0.1 divided by 20 is 0.10000000000000002.
        let naive: f64 = [0.1; 20].iter().sum::<f64>() / 20.0;
        assert_ne!(naive, 0.1);
        let m = means(&[0.1; 25], 20);
        assert_eq!(m[19], 0.1);
        assert_eq!(m[24], 0.1);
    }

    #[test]
    fn exact_values_stay_exact_while_sliding() {
        let m = means(&[1.0, 2.0, 3.0, 4.0, 5.0], 2);
        assert_eq!(&m[1..], &[1.5, 2.5, 3.5, 4.5]);
    }
}
