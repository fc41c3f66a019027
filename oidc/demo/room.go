package demo

import (
	"context"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// EnsureRoom creates the demo room if it does not exist.
func EnsureRoom(ctx context.Context, svc *waitroom.Service, room string) error {
	_, err := svc.CreateRoom(ctx, waitroom.NewRoom(room, "Demo room"))
	if waitroom.ErrorCode(err) == waitroom.CodeConflict {
		return nil
	}
	return err
}
