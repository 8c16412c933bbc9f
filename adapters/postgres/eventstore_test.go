package postgres_test

import (
	"testing"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/eventstoretest"
	"github.com/medialuna/medialuna/test/testdb"
)

func TestEventStoreContract(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	eventstoretest.Run(t, func(t *testing.T) domain.EventStore { return store })
}
