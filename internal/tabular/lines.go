package tabular

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// errLineTooLong reports a physical line longer than lineSource.maxLine. The
// line has been consumed (and counted) when it is returned.
var errLineTooLong = errors.New("tabular: line too long")

// lineSource hands out physical lines and counts them. It can also take lines
// back (pushBack): when a quote turns out to be unbalanced, the lines it
// swallowed are parsed again as rows of their own, so one stray quote costs
// one row instead of the rest of the file. encoding/csv has no such recovery,
// which is why this package does its own parsing.
type lineSource struct {
	br      *bufio.Reader
	maxLine int

	// replay holds pushed-back lines still to be handed out, a window into
	// replayBuf. spare is the previous replay buffer, recycled by pushBack so
	// that it never copies into memory it is copying from.
	replay, replayBuf, spare []byte

	long []byte // assembles lines longer than br's buffer
	line int    // number of the last line handed out
	err  error  // sticky error from br, io.EOF included
}

// newLineSource uses bufio's default buffer: larger ones read no faster
// in BenchmarkReader and slow down fuzzing, and longer lines go to readLong.
func newLineSource(r io.Reader, maxLine int) lineSource {
	return lineSource{br: bufio.NewReader(r), maxLine: maxLine}
}

// next returns the next physical line including its "\n", if it has one (only
// the last line of the input may lack it). The slice is only valid until the
// following call to next or pushBack.
func (s *lineSource) next() ([]byte, error) {
	if len(s.replay) > 0 {
		n := bytes.IndexByte(s.replay, '\n') + 1
		if n == 0 {
			n = len(s.replay)
		}
		b := s.replay[:n]
		s.replay = s.replay[n:]
		s.line++
		return b, nil
	}
	if s.err != nil {
		return nil, s.err
	}
	b, err := s.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return s.readLong(b)
	case err == io.EOF:
		s.err = err
		if len(b) == 0 {
			return nil, err
		}
	case err != nil:
		// A partial line is dropped: parsing it could turn a truncated value
		// into an apparently valid row.
		s.err = err
		return nil, err
	}
	s.line++
	if len(b) > s.maxLine {
		return nil, errLineTooLong
	}
	return b, nil
}

// readLong finishes a line that did not fit in br's buffer. Only maxLine
// bytes are ever kept; the rest of an oversized line is read and dropped, so
// a file without line breaks cannot exhaust memory.
func (s *lineSource) readLong(b []byte) ([]byte, error) {
	s.long = append(s.long[:0], b...)
	tooLong := len(s.long) > s.maxLine
	for {
		b, err := s.br.ReadSlice('\n')
		if !tooLong {
			if len(s.long)+len(b) > s.maxLine {
				tooLong = true
				s.long = s.long[:0]
			} else {
				s.long = append(s.long, b...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			s.err = err
			if err != io.EOF {
				return nil, err
			}
		}
		s.line++
		if tooLong {
			return nil, errLineTooLong
		}
		return s.long, nil
	}
}

// pushBack makes the whole lines in b, which followed line number after, the
// next ones handed out, ahead of any lines still pending. b must not alias
// memory owned by s.
func (s *lineSource) pushBack(b []byte, after int) {
	buf := append(s.spare[:0], b...)
	buf = append(buf, s.replay...)
	s.spare = s.replayBuf
	s.replayBuf = buf
	s.replay = buf
	s.line = after
}
