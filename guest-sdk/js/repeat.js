// test_server's repeat helpers, for steps that may need several tries (a leader not yet
// elected, a connection refused while a node restarts). Exported by `index.js` (0.1) and
// `suite.js` (0.2):
//
//   mOutOfN(3, 5, (attempt) => writeAndRead(ctx));   // 3 successes in at most 5 tries
//
// A try fails by throwing: `fail()`, a failed `ensure…`, or any other error; `skip()` (0.2)
// is not a failed try and skips at once. The messages are those of every SDK.

import { Failure, callerLocation } from './failure.js';

/** test_server's `do_times/2`: call `fn(attempt)` for attempts 1..n; the first error ends it, thrown as it is. */
export function doTimes(n, fn) {
  for (let attempt = 1; attempt <= n; attempt += 1) {
    fn(attempt);
  }
}

/**
 * test_server's `m_out_of_n/3`: call `fn(attempt)` (from 1) until it has returned without
 * throwing `m` times, at most `n` times. Fewer than `m` successes — known as soon as the
 * tries left cannot make up for them — fail the case at the caller's line, with the counts
 * and the last error.
 */
export function mOutOfN(m, n, fn) {
  const location = callerLocation();
  if (m > n) {
    throw new Failure(`m_out_of_n(${m}, ${n}): more successes asked for than tries`, location);
  }
  let succeeded = 0;
  let tried = 0;
  let last = '';
  // Go on while the tries left can still make up the successes missing.
  while (succeeded < m && n - tried >= m - succeeded) {
    tried += 1;
    try {
      fn(tried);
      succeeded += 1;
    } catch (error) {
      if (error?.name === 'Skip') {
        throw error; // a skip is not a failed try
      }
      const message = error instanceof Failure ? error.message : `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`;
      last = `; last error (try ${tried}): ${message}`;
    }
  }
  if (succeeded < m) {
    throw new Failure(`m_out_of_n(${m}, ${n}): ${succeeded} of ${tried} tries succeeded, ${m} needed${last}`, location);
  }
}
