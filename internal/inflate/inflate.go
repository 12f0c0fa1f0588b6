// Package inflate decompresses whole gzip files held in memory with
// libdeflate, about three times as fast as a streaming Go reader on
// CloudTrail's log files (BenchmarkGunzip). It is only a fast path: it
// reports failure without saying why, and callers then read the file
// with a streaming reader, which gives the exact error. Build with the
// tag nolibdeflate where libdeflate is not installed; Gunzip then always
// reports failure.
package inflate

// Available says whether Gunzip can succeed in this build.
const Available = available
