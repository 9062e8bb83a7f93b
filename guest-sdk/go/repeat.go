package hosttest

import (
	"fmt"
	"strings"
)

// test_server's repeat helpers, for steps that may need several tries (a leader not yet
// elected, a connection refused while a node restarts):
//
//	t.MOutOfN(3, 5, func(attempt int) error { return writeAndRead(t) }) // 3 successes in at most 5 tries
//
// A try fails by returning an error or by a failing assertion of t (t.Fatal, t.Equal, …),
// which then fails the try, not the case; t.Skip (0.2) is not a failed try and skips at
// once. The messages are those of every SDK.

// DoTimes is test_server's do_times/2: it calls try(attempt) for attempts 1..n and
// returns the first error, after which it stops.
func DoTimes(n int, try func(attempt int) error) error {
	for attempt := 1; attempt <= n; attempt++ {
		if err := try(attempt); err != nil {
			return err
		}
	}
	return nil
}

// MOutOfN is test_server's m_out_of_n/3: it calls try(attempt) (from 1) until it has
// succeeded m times, at most n times. Fewer than m successes — known as soon as the tries
// left cannot make up for them — end the case with a failure at the caller's line, with
// the counts and the last error.
func (t *T) MOutOfN(m, n int, try func(attempt int) error) {
	if m > n {
		t.Fatalf("m_out_of_n(%d, %d): more successes asked for than tries", m, n)
	}
	succeeded, tried, last := 0, 0, ""
	// Go on while the tries left can still make up the successes missing.
	for succeeded < m && n-tried >= m-succeeded {
		tried++
		if message, failed := t.try(tried, try); failed {
			last = fmt.Sprintf("; last error (try %d): %s", tried, message)
		} else {
			succeeded++
		}
	}
	if succeeded < m {
		t.Fatalf("m_out_of_n(%d, %d): %d of %d tries succeeded, %d needed%s", m, n, succeeded, tried, m, last)
	}
}

// try runs one try: a returned error, or a failure t recorded during it (the try's own,
// taken back from the case), fails it.
func (t *T) try(attempt int, try func(attempt int) error) (message string, failed bool) {
	before, earlier := t.failure, ""
	if before != nil {
		earlier = before.Message // a later failure is added to an earlier one's message
	}
	defer func() {
		if t.failure == before && (before == nil || before.Message == earlier) {
			return // nothing recorded: a panic other than an assertion's goes on
		}
		// An assertion failed inside the try: the try failed, the case did not.
		if before == nil {
			message = t.failure.Message
		} else {
			message = strings.TrimPrefix(before.Message, earlier+"\n")
			before.Message = earlier
		}
		failed = true
		t.failure = before
		if value := recover(); value != nil {
			if _, ended := value.(fatal); !ended {
				panic(value)
			}
		}
	}()
	if err := try(attempt); err != nil {
		return err.Error(), true
	}
	return "", false
}
