package store

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/imagedash/imagedash/cloud"
)

func TestSaveFolders(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	steps := []struct {
		name string
		give []cloud.Folder
		want []cloud.Folder // by name
	}{
		{"first", testFolders, testFolders},
		{"replace the set", []cloud.Folder{
			{ID: "b1g-c", Name: "golden", Labels: map[string]string{"shared": "yes"}},
			{ID: "b1g-a", CloudID: "b1g-cloud", Name: "team-a-renamed"},
		}, []cloud.Folder{
			{ID: "b1g-c", Name: "golden", Labels: map[string]string{"shared": "yes"}},
			{ID: "b1g-a", CloudID: "b1g-cloud", Name: "team-a-renamed"},
		}},
		{"empty", nil, nil},
	}
	for _, st := range steps {
		if err := s.SaveFolders(ctx, st.give); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.Folders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: Folders = %+v, want %+v", st.name, got, st.want)
		}
	}
	if err := s.SaveFolders(ctx, []cloud.Folder{{Name: "no id"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("folder without id: got %v, want ErrInvalid", err)
	}
}
