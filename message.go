package watchdog

import (
	"sort"
	"time"
)

// Message authors: who wrote a public message on a ticket.
const (
	AuthorCustomer = "customer"
	AuthorAgent    = "agent"
)

// Message is one public message on a ticket, as events report them. A
// message is identified by its author and instant, so re-sending one changes
// nothing.
type Message struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
}

// messageRank orders the authors at equal instants: customer messages
// apply before agent messages.
func messageRank(author string) int {
	if author == AuthorAgent {
		return 1
	}
	return 0
}

// messageBefore is the timeline order of messages: by instant, customer
// before agent at the same instant.
func messageBefore(a, b Message) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	return messageRank(a.Author) < messageRank(b.Author)
}

// MergeMessages folds msgs into the ticket's message timeline (kept in
// timeline order, one message per author and instant) and returns those it
// did not have, in the order given.
func (t *Ticket) MergeMessages(msgs []Message) []Message {
	var fresh []Message
	for _, m := range msgs {
		m.At = m.At.Truncate(time.Microsecond).UTC()
		i := sort.Search(len(t.Messages), func(i int) bool { return !messageBefore(t.Messages[i], m) })
		if i < len(t.Messages) && t.Messages[i].At.Equal(m.At) && t.Messages[i].Author == m.Author {
			continue
		}
		t.Messages = append(t.Messages, Message{})
		copy(t.Messages[i+1:], t.Messages[i:])
		t.Messages[i] = m
		fresh = append(fresh, m)
	}
	return fresh
}
