package sim

// KeyedOperation is the operation the emulator started for an
// Idempotency-Key and the method (full gRPC name) that sent it; ok is false
// for a key that never started one. With Created and Calls, tests check
// that a client's re-sends went through the key: each key started at most
// one operation, and every created image came with a key.
func (s *Sim) KeyedOperation(key string) (method, opID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.idem[key]
	return e.Method, e.OpID, ok
}

// KeyedOperations counts the keys that started an operation through
// fullMethod (e.g. "/yandex.cloud.compute.v1.ImageService/Create").
func (s *Sim) KeyedOperations(fullMethod string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.idem {
		if e.Method == fullMethod {
			n++
		}
	}
	return n
}
