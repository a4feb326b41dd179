package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"time"
)

// rawClient is a minimal HTTP/1.1 keep-alive client for load generation: one connection,
// one request at a time, requests pre-rendered, responses parsed just enough to find the
// status and skip the body. Go's net/http client costs more CPU per request than the
// server it measures; on a 2-core machine the generator's cost would be most of the
// figure. It plays the part wrk plays elsewhere, from inside the repository.
type rawClient struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	hdr  []byte
}

func newRawClient(addr, key, path string) *rawClient {
	return &rawClient{addr: addr, hdr: []byte("POST " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nAuthorization: Bearer " + key + "\r\nContent-Type: application/json\r\nContent-Length: ")}
}

// post sends body and returns the response status.
func (c *rawClient) post(body []byte) (int, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 8192)
	}
	req := make([]byte, 0, len(c.hdr)+len(body)+16)
	req = append(req, c.hdr...)
	req = strconv.AppendInt(req, int64(len(body)), 10)
	req = append(req, "\r\n\r\n"...)
	req = append(req, body...)
	if _, err := c.conn.Write(req); err != nil {
		c.close()
		return 0, err
	}
	status, err := c.readResponse()
	if err != nil {
		c.close()
	}
	return status, err
}

func (c *rawClient) readResponse() (int, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length := -1
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if len(h) > 16 && bytes.EqualFold(h[:15], []byte("Content-Length:")) {
			length, err = strconv.Atoi(string(bytes.TrimSpace(h[15:])))
			if err != nil {
				return 0, err
			}
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("response without Content-Length")
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}
