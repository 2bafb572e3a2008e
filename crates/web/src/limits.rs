//! Rate limits on public intake: per Open311 key, per client address and per device, each a token bucket
//! refilled continuously. Kept in memory: a restart forgives everyone, which is harmless for a limit meant
//! to stop floods, not to bill.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use gridward_app::AppError;

/// Reports per minute allowed for each kind of caller; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_key: u32,
    pub per_address: u32,
    pub per_device: u32,
}

impl Default for RateLimits {
    /// A client application relays a whole city's reports; a person or a phone files a few.
    fn default() -> Self {
        RateLimits { per_key: 600, per_address: 20, per_device: 10 }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every caller seen recently.
pub struct Limiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(&'static str, String), Bucket>>,
}

/// Buckets kept before idle full ones are dropped.
const MAX_BUCKETS: usize = 100_000;

impl Limiter {
    pub fn new(limits: RateLimits) -> Limiter {
        Limiter { limits, buckets: Mutex::new(HashMap::new()) }
    }

    fn per_minute(&self, kind: &str) -> u32 {
        match kind {
            "key" => self.limits.per_key,
            "address" => self.limits.per_address,
            "device" => self.limits.per_device,
            _ => 0,
        }
    }

    /// Takes one token from each named caller's bucket, or refuses (taking none) when any is empty.
    pub fn take(&self, callers: &[(&'static str, &str)]) -> Result<(), AppError> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limit lock");
        if buckets.len() > MAX_BUCKETS {
            let limits = self.limits;
            buckets.retain(|(kind, _), b| {
                let rate = match *kind {
                    "key" => limits.per_key,
                    "address" => limits.per_address,
                    _ => limits.per_device,
                };
                now.duration_since(b.at).as_secs_f64() * f64::from(rate) / 60.0 + b.tokens < f64::from(rate)
            });
        }
        let mut refill = Vec::new();
        for (kind, id) in callers.iter().filter(|(_, id)| !id.is_empty()) {
            let rate = self.per_minute(kind);
            if rate == 0 {
                continue;
            }
            let bucket = buckets.entry((kind, id.to_string())).or_insert(Bucket { tokens: f64::from(rate), at: now });
            let tokens =
                (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * f64::from(rate) / 60.0).min(f64::from(rate));
            if tokens < 1.0 {
                return Err(AppError::bad_request(
                    "rate_limited",
                    format!("at most {rate} reports a minute per {kind}; try again shortly"),
                ));
            }
            refill.push(((*kind, id.to_string()), tokens));
        }
        for (key, tokens) in refill {
            buckets.insert(key, Bucket { tokens: tokens - 1.0, at: now });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_and_other_callers_are_not() {
        let limiter = Limiter::new(RateLimits { per_key: 0, per_address: 3, per_device: 10 });
        for _ in 0..3 {
            limiter.take(&[("address", "10.0.0.1")]).unwrap();
        }
        assert_eq!(limiter.take(&[("address", "10.0.0.1")]).unwrap_err().code(), "rate_limited");
        limiter.take(&[("address", "10.0.0.2")]).unwrap();
        // A limit of 0 is off.
        for _ in 0..100 {
            limiter.take(&[("key", "fms")]).unwrap();
        }
        // A refusal takes nothing from the other buckets.
        let limiter = Limiter::new(RateLimits { per_key: 1, per_address: 5, per_device: 5 });
        limiter.take(&[("key", "k"), ("device", "d")]).unwrap();
        assert!(limiter.take(&[("device", "d"), ("key", "k")]).is_err());
        for _ in 0..4 {
            limiter.take(&[("device", "d")]).unwrap();
        }
        assert!(limiter.take(&[("device", "d")]).is_err());
    }
}
