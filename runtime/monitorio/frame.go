package monitorio

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// Attach protocol: both directions carry frames of
//
//	[1 byte type][4 bytes big-endian payload length][payload]
//
// Client to monitor: FrameStdin, FrameStdinClose, FrameResize (payload:
// height, width as two big-endian uint16), FrameCleanupOwner (no payload:
// this client removes the container itself, so no ExitCommand).
// Monitor to client: FrameStdout, FrameStderr (with a terminal everything is
// FrameStdout), FrameStarted (payload: pid as decimal text), FrameError
// (payload: message), FrameExit (payload: exit code as big-endian int32),
// after which the monitor closes the connection. FrameHealthcheck (no
// payload) asks the monitor to run the container's healthcheck now; it
// answers with a FrameHealthcheck whose payload is the HealthReply as JSON
// (output frames may come first).
const (
	FrameStdin        byte = 0
	FrameStdout       byte = 1
	FrameStderr       byte = 2
	FrameExit         byte = 3
	FrameStdinClose   byte = 4
	FrameResize       byte = 5
	FrameCleanupOwner byte = 6
	FrameStarted      byte = 7
	FrameError        byte = 8
	FrameHealthcheck  byte = 9
)

// MaxFrame bounds a frame's payload so a bad peer cannot make us allocate.
const MaxFrame = 1 << 20

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, typ byte, payload []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := w.Write(append(hdr[:], payload...)); err != nil {
		return err
	}
	return nil
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, errors.New("attach frame of " + strconv.FormatUint(uint64(n), 10) + " bytes exceeds " + strconv.Itoa(MaxFrame))
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// ReadWholeFrame reads one frame from c like ReadFrame, except that a read
// deadline cuts it only between frames: a deadline that passes once part
// of a frame is read is cleared and the frame read to its end. A monitor
// that hands its clients to its next program (execve) stops their readers
// with a deadline in the past and so never leaves half a frame read.
// At a frame boundary it returns an error that satisfies
// errors.Is(err, os.ErrDeadlineExceeded).
func ReadWholeFrame(c net.Conn) (byte, []byte, error) {
	var hdr [5]byte
	if err := readWhole(c, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, errors.New("attach frame of " + strconv.FormatUint(uint64(n), 10) + " bytes exceeds " + strconv.Itoa(MaxFrame))
	}
	payload := make([]byte, n)
	if n == 0 {
		return hdr[0], payload, nil
	}
	if err := readRest(c, payload, 0); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// readWhole fills b, giving up on a deadline only before its first byte.
func readWhole(c net.Conn, b []byte) error {
	n, err := c.Read(b)
	if err != nil && n == 0 {
		return err
	}
	return readRest(c, b, n)
}

// readRest fills b[n:], clearing a deadline that passes meanwhile.
func readRest(c net.Conn, b []byte, n int) error {
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.SetReadDeadline(time.Time{})
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// EncodeResize is a FrameResize payload.
func EncodeResize(height, width uint16) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint16(b, height)
	binary.BigEndian.PutUint16(b[2:], width)
	return b
}

// DecodeResize reads a FrameResize payload.
func DecodeResize(p []byte) (height, width uint16, err error) {
	if len(p) != 4 {
		return 0, 0, errors.New("resize frame of " + strconv.Itoa(len(p)) + " bytes, want 4")
	}
	return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), nil
}

// EncodeExit is a FrameExit payload.
func EncodeExit(code int) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(code)))
}

// DecodeExit reads a FrameExit payload.
func DecodeExit(p []byte) (int, error) {
	if len(p) != 4 {
		return 0, errors.New("exit frame of " + strconv.Itoa(len(p)) + " bytes, want 4")
	}
	return int(int32(binary.BigEndian.Uint32(p))), nil
}
