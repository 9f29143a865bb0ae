//! Scoring: the headline's units (pairs count once, and only whole) and the
//! gaming floors that answerers without understanding reach.

pub(crate) mod calibrate;
pub(crate) mod units;
