package sim

import (
	"github.com/imagedash/imagedash/rules"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	clouddesktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
)

// Short names for the three image messages.
type (
	computeImage   = compute.Image
	desktopImage   = clouddesktop.DesktopImage
	baremetalImage = baremetal.Image
)

// idRule is the reference's rule for ids: required, at most 50 characters.
func idRule(field, v string) []rules.Violation { return rules.ID(field, v, true) }
