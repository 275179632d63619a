package runlog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// Status says whether the logs of one activation are all there.
type Status string

const (
	// StatusComplete: the end marker was read and every record numbered
	// before it is there.
	StatusComplete Status = "complete"
	// StatusRunning: no end marker yet and no gap so far. The step is still
	// being written — or its process died before Deactivate; records it
	// spooled come back with the next `runlog flush`.
	StatusRunning Status = "running"
	// StatusIncomplete: records are missing (gaps in the sequence) or were
	// dropped by an overflow policy, as the end marker counts.
	StatusIncomplete Status = "incomplete"
	// StatusDamaged: part of what the store holds for the activation could
	// not be read — a line that does not decode, a file that cannot be
	// opened (Completeness.Damaged says where and why). The records that
	// could be read are counted as for the other statuses; the damaged
	// part's are not, so a gap may show too. Damage that no activation can
	// be told from, such as a step directory that cannot be listed, is
	// reported on a Completeness of its own, with an empty Activation.
	StatusDamaged Status = "damaged"
	// StatusNotAccounted: records without runlog's sequence numbers —
	// written by another program (an OpenTelemetry SDK, a service a step
	// called, ZenML) — so nothing tells how many there should be: they are
	// counted (Received), never reported missing, never complete.
	StatusNotAccounted Status = "not accounted"
)

// Gap is a range of missing sequence numbers, From to To inclusive.
type Gap struct{ From, To uint64 }

func (g Gap) String() string {
	if g.From == g.To {
		return fmt.Sprint(g.From)
	}
	return fmt.Sprintf("%d-%d", g.From, g.To)
}

// MaxGaps is the most gaps Completeness lists; Missing counts them all.
const MaxGaps = 100

// Completeness is the account of one activation's records as read back.
type Completeness struct {
	RunID, StepID, Source string
	Activation            string
	Status                Status
	// Received is the number of distinct records read (chunks count one
	// each); Duplicates the number read again with a sequence already seen.
	Received, Duplicates uint64
	// Expected is the number of records numbered: from the end marker when
	// there is one, else the highest sequence read.
	Expected uint64
	// Missing is the number of sequence numbers in 1..Expected not read;
	// Gaps lists them (the first MaxGaps ranges).
	Missing uint64
	Gaps    []Gap
	// Ended reports that the end marker was read; Dropped, Rejected,
	// Redacted, Cause and Result are its (see End). Rejected records are
	// among the missing ones: the backend refused them.
	Ended              bool
	Dropped            uint64
	Rejected, Redacted uint64
	Cause, Result      string
	// Damaged lists what could not be read (Page.Damaged), once each; any
	// makes the Status StatusDamaged.
	Damaged []Damage
}

func (c Completeness) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s, %d records", c.place(), c.Status, c.Received)
	if c.Status == StatusNotAccounted {
		b.WriteString(" without runlog sequence numbers (written by another program): whether any are missing cannot be told")
	}
	if c.Ended {
		fmt.Fprintf(&b, ", ended %s", c.Cause)
		if c.Result != "" {
			fmt.Fprintf(&b, " (%s)", c.Result)
		}
	}
	if c.Missing > 0 {
		gaps := make([]string, len(c.Gaps))
		for i, g := range c.Gaps {
			gaps[i] = g.String()
		}
		more := ""
		if uint64(len(c.Gaps)) < c.Missing && len(c.Gaps) == MaxGaps {
			more = ", ..."
		}
		fmt.Fprintf(&b, ", %d missing (sequence %s%s)", c.Missing, strings.Join(gaps, ", "), more)
	}
	if c.Dropped > 0 {
		fmt.Fprintf(&b, ", %d dropped by the overflow policy", c.Dropped)
	}
	if c.Rejected > 0 {
		fmt.Fprintf(&b, ", %d rejected by the backend as invalid (set aside where they were written)", c.Rejected)
	}
	if c.Redacted > 0 {
		fmt.Fprintf(&b, ", %d with secrets redacted", c.Redacted)
	}
	for _, d := range c.Damaged {
		fmt.Fprintf(&b, "; damaged: %s", d)
	}
	return b.String()
}

func (c Completeness) place() string {
	s := "run " + c.RunID
	if c.StepID != "" {
		s += " step " + c.StepID
	}
	if c.Source != "" {
		s += " (" + c.Source + ")"
	}
	if c.Activation == "" {
		return s
	}
	return s + " activation " + c.Activation
}

// Check reads every entry matching q's run, step, source and time range
// (its level, text, cursor and direction are ignored) and returns, per
// activation in the order first seen, whether its logs are complete, still
// being written, missing records (and which), or damaged in the store (and
// where). Records without a sequence number (not written by runlog) are
// StatusNotAccounted, one Completeness per writer's stream (the
// convention's Stream attribute, else the run, step and source).
//
// Check reads the whole selection, at most MaxPage entries at a time, and
// holds only its accounts (a few numbers per activation); for a large run
// it is as costly as fetching it.
func Check(ctx context.Context, f Fetcher, q Query) ([]Completeness, error) {
	q.MinLevel, q.Contains, q.Cursor, q.Direction = 0, "", "", Forward
	q.Limit = q.PageLimit() // the run is read a page at a time, whatever q.Limit says
	type acct struct {
		c       Completeness
		next    uint64 // the sequence expected next
		guessed bool   // scope from a Damage, until an entry tells it
		foreign bool   // records without runlog's sequence: not accounted
		damaged map[[2]string]bool
	}
	byID := map[string]*acct{}
	var order []string
	get := func(id, run, step, source string) *acct {
		a := byID[id]
		if a == nil {
			a = &acct{c: Completeness{RunID: run, StepID: step, Source: source, Activation: id}, next: 1}
			byID[id] = a
			order = append(order, id)
		} else if a.guessed { // a damage named it first: an entry or end knows its scope
			a.c.RunID, a.c.StepID, a.c.Source, a.guessed = run, step, source, false
		}
		return a
	}
	gap := func(a *acct, from, to uint64) {
		a.c.Missing += to - from + 1
		if len(a.c.Gaps) < MaxGaps {
			a.c.Gaps = append(a.c.Gaps, Gap{from, to})
		}
	}
	damage := func(d Damage) {
		id := d.ActivationID
		if id == "" {
			id = "\x00" + d.File // no activation to tell: one account per place
		}
		a := byID[id]
		if a == nil {
			a = get(id, cmp.Or(d.RunID, q.RunID), d.StepID, d.Source)
			a.c.Activation = d.ActivationID
			a.guessed = true
		}
		if a.damaged == nil {
			a.damaged = map[[2]string]bool{}
		}
		if k := [2]string{d.File, fmt.Sprint(d.Offset)}; !a.damaged[k] {
			a.damaged[k] = true
			a.c.Damaged = append(a.c.Damaged, d)
		}
	}
	for {
		p, err := f.Fetch(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, d := range p.Damaged {
			damage(d)
		}
		for i := range p.Entries {
			e := &p.Entries[i]
			if e.Sequence == 0 || e.ActivationID == "" {
				a := get("\x01"+e.ActivationID+"\x00"+e.RunID+"\x00"+e.StepID+"\x00"+e.Source, e.RunID, e.StepID, e.Source)
				a.c.Activation, a.foreign = e.ActivationID, true
				a.c.Received++
				continue
			}
			a := get(e.ActivationID, e.RunID, e.StepID, e.Source)
			switch {
			case e.Sequence < a.next:
				a.c.Duplicates++
			default:
				if e.Sequence > a.next {
					gap(a, a.next, e.Sequence-1)
				}
				a.c.Received++
				a.next = e.Sequence + 1
			}
		}
		for _, end := range p.Ends {
			if end.ActivationID == "" {
				continue
			}
			a := get(end.ActivationID, end.RunID, end.StepID, end.Source)
			if a.c.Ended {
				continue // listed on more than one page
			}
			a.c.Ended, a.c.Dropped, a.c.Cause, a.c.Result = true, end.Dropped, end.Cause, end.Result
			a.c.Rejected, a.c.Redacted = end.Rejected, end.Redacted
			a.c.Expected = end.Last
		}
		if !p.More {
			break
		}
		q.Cursor = p.Next
	}
	out := make([]Completeness, 0, len(order))
	for _, id := range order {
		a := byID[id]
		if a.c.Ended {
			if a.next <= a.c.Expected {
				gap(a, a.next, a.c.Expected)
			}
		} else {
			a.c.Expected = a.next - 1
		}
		switch {
		case a.foreign:
			a.c.Status, a.c.Expected = StatusNotAccounted, 0
		case len(a.c.Damaged) > 0:
			a.c.Status = StatusDamaged
		case a.c.Missing > 0 || a.c.Dropped > 0 || a.c.Rejected > 0:
			a.c.Status = StatusIncomplete
		case a.c.Ended:
			a.c.Status = StatusComplete
		default:
			a.c.Status = StatusRunning
		}
		out = append(out, a.c)
	}
	slices.SortStableFunc(out, func(x, y Completeness) int {
		return strings.Compare(x.StepID, y.StepID)
	})
	return out, nil
}
