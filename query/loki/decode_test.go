package loki

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzDecodeStreams(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"service_name":"runlog"},"values":[["1700000000000000001","line \"q\" \u00e9 \ud83d\ude00",{"structuredMetadata":{"a":"1","b\n":"x\\y"},"parsed":{}}],["2","two"]]}],"stats":{"n":[1,2.5,true,null]}}}`))
	f.Add([]byte(`{"data":{"result":[]}}`))
	f.Add([]byte(`{"data":{"result":[{"values":[[1,2]]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		type got struct {
			ts   int64
			line string
			meta map[string]string
		}
		var mine []got
		err := decodeStreams(b, func(ts int64, line string, meta [][2]string) {
			m := map[string]string{}
			for _, kv := range meta {
				m[kv[0]] = kv[1]
			}
			mine = append(mine, got{ts, line, m})
		})
		if err != nil {
			return // rejecting is fine; wrong answers are not
		}
		// encoding/json matches keys case-insensitively; Loki's keys are
		// exact, and so is the scanner. Compare only inputs where it agrees.
		lower := bytes.ToLower(b)
		for _, k := range []string{`"data"`, `"result"`, `"values"`, `"structuredmetadata"`} {
			if bytes.Count(lower, []byte(k)) != bytes.Count(b, []byte(k)) && k != `"structuredmetadata"` ||
				k == `"structuredmetadata"` && bytes.Count(lower, []byte(k)) != bytes.Count(b, []byte(`"structuredMetadata"`)) {
				return
			}
		}
		// Whatever the scanner accepts and encoding/json also accepts must
		// agree with encoding/json.
		var ref struct {
			Data struct {
				Result []struct {
					Values [][]json.RawMessage `json:"values"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.Unmarshal(b, &ref) != nil {
			return
		}
		i := 0
		for _, r := range ref.Data.Result {
			for _, v := range r.Values {
				if i >= len(mine) {
					t.Fatalf("scanner found %d values; encoding/json more", len(mine))
				}
				var line string
				if len(v) > 1 && json.Unmarshal(v[1], &line) == nil && line != mine[i].line {
					t.Fatalf("value %d: line %q; encoding/json says %q", i, mine[i].line, line)
				}
				if len(v) > 2 {
					var m struct {
						SM map[string]string `json:"structuredMetadata"`
					}
					if json.Unmarshal(v[2], &m) == nil {
						for k, val := range m.SM {
							if mine[i].meta[k] != val {
								t.Fatalf("value %d: meta %q = %q; encoding/json says %q", i, k, mine[i].meta[k], val)
							}
						}
					}
				}
				i++
			}
		}
	})
}

func TestDecodeStreams(t *testing.T) {
	b := []byte(`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"service_name":"runlog"},"values":[["1700000000000000001","line \"q\" \u00e9 \ud83d\ude00",{"structuredMetadata":{"severity_number":"13","runlog_sequence":"7","g_a":"x\\y"},"parsed":{}}]]}]}}`)
	n := 0
	err := decodeStreams(b, func(ts int64, line string, meta [][2]string) {
		n++
		e := toEntry(ts, line, meta, nil)
		if ts != 1700000000000000001 || line != "line \"q\" é 😀" || e.Level != 13 || e.Sequence != 7 || e.Attributes["g_a"] != `x\y` ||
			e.Attributes["service.name"] != "" { // runlog's own service is left out
			t.Errorf("decoded %d %q %+v", ts, line, e)
		}
	})
	if err != nil || n != 1 {
		t.Fatalf("decodeStreams = %v, %d values", err, n)
	}
	b = []byte(`{"data":{"result":[{"stream":{"service_name":"node-step"},"values":[["5","from node",{"structuredMetadata":{"cicd_pipeline_run_id":"r"}}]]}]}}`)
	n = 0
	err = decodeStreams(b, func(ts int64, line string, meta [][2]string) {
		n++
		e := toEntry(ts, line, meta, nil)
		if e.RunID != "r" || e.Attributes["service.name"] != "node-step" {
			t.Errorf("decoded %d %q %+v", ts, line, e)
		}
	})
	if err != nil || n != 1 {
		t.Fatalf("decodeStreams = %v, %d values", err, n)
	}
}
