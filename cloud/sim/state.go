package sim

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// stateVersion changes when the file format does; an older file is refused
// rather than misread.
const stateVersion = 1

// saveEvery is how often a changed state is written while serving.
const saveEvery = time.Second

// snapshot is the state file: protos as their wire bytes inside gob.
type snapshot struct {
	Version   int
	RNG       []byte
	Clouds    [][]byte
	Folders   [][]byte
	Compute   [][]byte
	Desktop   [][]byte
	BareMetal [][]byte
	Disks     map[string]Source
	Snapshots map[string]Source
	Desktops  map[string]Source
	Ops       []opRecord
	ImageOps  map[string][]string
	Idem      map[string]idemEntry
	Tokens    map[string]time.Time
	Created   int
}

type opRecord struct {
	Op         []byte
	Service    string
	Kind       opKind
	ImageID    string
	DoneAt     time.Time
	FailCode   codes.Code
	FailMsg    string
	After      []byte
	Mask       []string
	PrevStatus string
}

// saveLoop writes the state file once a second while it has changed.
func (s *Sim) saveLoop() {
	defer close(s.saveDone)
	t := time.NewTimer(saveEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopSave:
			return
		case <-t.C:
			began := time.Now()
			if err := s.save(); err != nil {
				s.log.Error("sim: save state", "path", s.opts.StatePath, "err", err)
			}
			t.Reset(saveWait(time.Since(began)))
		}
	}
}

// saveWait is the pause after a save that took took: saveEvery, or more
// for a large state, so that saving takes at most a twentieth of a core
// (a state of 110 000 images takes about 0.2 s to save, and with
// operations in flight it changes every second).
func saveWait(took time.Duration) time.Duration {
	return max(saveEvery, 20*took)
}

// save writes the state file if anything changed since the last save. The
// snapshot is taken under the lock; the slow write happens outside it, to a
// temporary file renamed over the old one, so a crash leaves either the old
// or the new state, never half of one.
func (s *Sim) save() error {
	if s.opts.StatePath == "" {
		return nil
	}
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	snap, err := s.snapshotLocked()
	s.dirty = false
	s.mu.Unlock()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(snap); err != nil {
		return fmt.Errorf("sim: encode state: %w", err)
	}
	dir := filepath.Dir(s.opts.StatePath)
	tmp, err := os.CreateTemp(dir, filepath.Base(s.opts.StatePath)+".tmp*")
	if err != nil {
		return fmt.Errorf("sim: save state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("sim: write state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sim: sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sim: close state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.opts.StatePath); err != nil {
		return fmt.Errorf("sim: save state: %w", err)
	}
	return nil
}

func (s *Sim) snapshotLocked() (*snapshot, error) {
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("sim: save rng: %w", err)
	}
	// Copies: the snapshot is encoded after the lock is let go, while
	// calls change the maps (a race the detector caught).
	imageOps := make(map[string][]string, len(s.imageOps))
	for id, ops := range s.imageOps {
		imageOps[id] = slices.Clone(ops)
	}
	snap := &snapshot{
		Version: stateVersion, RNG: rng,
		Disks: maps.Clone(s.disks), Snapshots: maps.Clone(s.snapshots), Desktops: maps.Clone(s.desktops),
		ImageOps: imageOps, Idem: maps.Clone(s.idem), Tokens: maps.Clone(s.tokens), Created: s.created,
	}
	var merr error
	m := func(p proto.Message) []byte {
		b, err := proto.Marshal(p)
		if err != nil && merr == nil {
			merr = err
		}
		return b
	}
	for _, c := range s.clouds {
		snap.Clouds = append(snap.Clouds, m(c))
	}
	for _, f := range s.folders {
		snap.Folders = append(snap.Folders, m(f))
	}
	s.compute.each(func(v *computeImage) { snap.Compute = append(snap.Compute, m(v)) })
	s.desktop.each(func(v *desktopImage) { snap.Desktop = append(snap.Desktop, m(v)) })
	s.baremetal.each(func(v *baremetalImage) { snap.BareMetal = append(snap.BareMetal, m(v)) })
	for _, st := range s.ops {
		r := opRecord{
			Op: m(st.op), Service: st.service, Kind: st.kind, ImageID: st.imageID, DoneAt: st.doneAt,
			FailCode: st.failCode, FailMsg: st.failMsg, Mask: st.mask, PrevStatus: st.prevStatus,
		}
		if st.after != nil {
			r.After = m(st.after)
		}
		snap.Ops = append(snap.Ops, r)
	}
	if merr != nil {
		return nil, fmt.Errorf("sim: marshal state: %w", merr)
	}
	return snap, nil
}

// load reads the state file; false means there was none and the caller seeds.
func (s *Sim) load() (bool, error) {
	if s.opts.StatePath == "" {
		return false, nil
	}
	b, err := os.ReadFile(s.opts.StatePath)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sim: read state: %w", err)
	}
	var snap snapshot
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&snap); err != nil {
		return false, fmt.Errorf("sim: state file %s is damaged: %w", s.opts.StatePath, err)
	}
	if snap.Version != stateVersion {
		return false, fmt.Errorf("sim: state file %s has version %d, want %d", s.opts.StatePath, snap.Version, stateVersion)
	}
	if err := s.restore(&snap); err != nil {
		return false, fmt.Errorf("sim: state file %s: %w", s.opts.StatePath, err)
	}
	return true, nil
}

func (s *Sim) restore(snap *snapshot) error {
	if err := s.pcg.UnmarshalBinary(snap.RNG); err != nil {
		return fmt.Errorf("rng: %w", err)
	}
	s.rng = rand.New(s.pcg)
	var uerr error
	u := func(b []byte, p proto.Message) {
		if err := proto.Unmarshal(b, p); err != nil && uerr == nil {
			uerr = err
		}
	}
	for _, b := range snap.Clouds {
		c := &resourcemanager.Cloud{}
		u(b, c)
		s.clouds = append(s.clouds, c)
	}
	for _, b := range snap.Folders {
		f := &resourcemanager.Folder{}
		u(b, f)
		s.folders = append(s.folders, f)
	}
	restoreTable(s.compute, snap.Compute, u)
	restoreTable(s.desktop, snap.Desktop, u)
	restoreTable(s.baremetal, snap.BareMetal, u)
	for _, r := range snap.Ops {
		op := &operation.Operation{}
		u(r.Op, op)
		st := &opState{
			op: op, service: r.Service, kind: r.Kind, imageID: r.ImageID, doneAt: r.DoneAt,
			failCode: r.FailCode, failMsg: r.FailMsg, mask: r.Mask, prevStatus: r.PrevStatus,
		}
		if r.After != nil {
			st.after = newImageMsg(r.Service)
			u(r.After, st.after)
		}
		s.ops[op.Id] = st
		if !op.Done {
			s.pending[op.Id] = st
		}
	}
	s.disks, s.snapshots, s.desktops = orEmpty(snap.Disks), orEmpty(snap.Snapshots), orEmpty(snap.Desktops)
	if snap.ImageOps != nil {
		s.imageOps = snap.ImageOps
	}
	if snap.Idem != nil {
		s.idem = snap.Idem
	}
	if snap.Tokens != nil {
		s.tokens = snap.Tokens
	}
	s.created = snap.Created
	return uerr
}

func restoreTable[T resource](t *table[T], rows [][]byte, u func([]byte, proto.Message)) {
	vs := make([]T, 0, len(rows))
	for _, b := range rows {
		var zero T
		v := zero.ProtoReflect().New().Interface().(T)
		u(b, v)
		vs = append(vs, v)
	}
	t.appendSorted(vs)
}

func newImageMsg(service string) resource {
	switch service {
	case svcDesktop:
		return &desktopImage{}
	case svcBareMetal:
		return &baremetalImage{}
	}
	return &computeImage{}
}

func orEmpty(m map[string]Source) map[string]Source {
	if m == nil {
		return map[string]Source{}
	}
	return m
}
