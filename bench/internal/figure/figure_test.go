package figure

import "testing"

func TestRow(t *testing.T) {
	got := Row("emit: ns/op", 1153.4, 2364, "ns/op", "raw", "ratio<=0.8")
	if want := "row\temit: ns/op\t1153.4\t2364\tns/op\traw\tratio<=0.8"; got != want {
		t.Errorf("Row = %q; want %q", got, want)
	}
}

func TestShortMedianVerdict(t *testing.T) {
	for n, want := range map[int]string{1000000: "1M", 10000000: "10M", 100000: "100k", 1500: "1500", 1234567: "1234567"} {
		if got := Short(n); got != want {
			t.Errorf("Short(%d) = %q; want %q", n, got, want)
		}
	}
	xs := []float64{3, 1, 2, 10}
	if got := Median(xs); got != 2.5 {
		t.Errorf("Median = %v; want 2.5", got)
	}
	if xs[0] != 3 {
		t.Errorf("Median reordered its argument: %v", xs)
	}
	if Median(nil) != 0 || Median([]float64{7}) != 7 {
		t.Error("Median of none or one")
	}
	if Verdict(true) != "met" || Verdict(false) != "NOT met" {
		t.Error("Verdict")
	}
}
