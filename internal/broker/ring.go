package broker

// ring is a growable FIFO deque. The zero value is empty and usable.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (r *ring[T]) Len() int { return r.n }

// Push appends v at the back.
func (r *ring[T]) Push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

// PushFront puts v at the front.
func (r *ring[T]) PushFront(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.head = (r.head - 1 + len(r.buf)) % len(r.buf)
	r.buf[r.head] = v
	r.n++
}

// Peek returns the front element; the ring must not be empty.
func (r *ring[T]) Peek() T { return r.buf[r.head] }

// At returns the i-th element from the front.
func (r *ring[T]) At(i int) T { return r.buf[(r.head+i)%len(r.buf)] }

// Pop removes and returns the front element; the ring must not be empty.
func (r *ring[T]) Pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	if r.n == 0 {
		r.head = 0
		if len(r.buf) > 64 {
			r.buf = nil // give a drained large queue's memory back
		}
	}
	return v
}

// RemoveAt removes the i-th element from the front, keeping order.
func (r *ring[T]) RemoveAt(i int) T {
	v := r.At(i)
	for j := i; j > 0; j-- {
		r.buf[(r.head+j)%len(r.buf)] = r.buf[(r.head+j-1)%len(r.buf)]
	}
	r.Pop()
	return v
}

// Clear empties the ring and releases its memory.
func (r *ring[T]) Clear() { *r = ring[T]{} }

func (r *ring[T]) grow() {
	size := 2 * len(r.buf)
	if size == 0 {
		size = 4
	}
	nb := make([]T, size)
	for i := 0; i < r.n; i++ {
		nb[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = nb, 0
}
