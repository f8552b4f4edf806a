package cloud

import "time"

// FastRetries shortens a client's read backoff to milliseconds, so tests of
// retries against the emulator do not sleep for seconds.
func FastRetries(c *Client) {
	c.retry.Initial = time.Millisecond
	c.retry.Max = 5 * time.Millisecond
}
