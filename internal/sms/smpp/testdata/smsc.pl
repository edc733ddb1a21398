#!/usr/bin/perl
# A second third-party SMSC for the smpp package's interoperability test,
# built on Debian's libnet-smpp-perl (Net::SMPP). Usage: perl smsc.pl PORT
#
# It serves one connection at a time: accepts bind_transceiver with any
# credentials, answers submit_sm with a decimal message_id counter, sends a
# delivery receipt (esm_class 4, asynchronously) for each submit that asks for
# one, and answers a submit to 447700900999 with an MO "JOIN Ann" from
# 447700900123. It prints "listening" when ready.
use strict;
use warnings;
use Net::SMPP;

$| = 1;
my $port = shift or die "usage: perl smsc.pl PORT\n";
my $listen = Net::SMPP->new_listen('127.0.0.1', port => $port, async => 1, smpp_version => 0x34)
    or die "listen: $!\n";
print "listening\n";

my $next_id = 5000;
while (my $smpp = $listen->accept) {
    while (my $pdu = $smpp->read_pdu()) {
        my $cmd = $pdu->{cmd};
        if ($cmd == Net::SMPP::CMD_bind_transceiver) {
            $smpp->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'net-smpp', async => 1);
        } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
            $smpp->enquire_link_resp(seq => $pdu->{seq}, async => 1);
        } elsif ($cmd == Net::SMPP::CMD_unbind) {
            $smpp->unbind_resp(seq => $pdu->{seq}, async => 1);
            last;
        } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
            my $id = $next_id++;
            $smpp->submit_sm_resp(seq => $pdu->{seq}, message_id => "$id", async => 1);
            if ($pdu->{registered_delivery} & 1) {
                $smpp->deliver_sm(
                    source_addr      => $pdu->{destination_addr},
                    destination_addr => $pdu->{source_addr},
                    esm_class        => 4,
                    short_message    => "id:$id sub:001 dlvrd:001 submit date:2611231000 done date:2611231000 stat:DELIVRD err:000 text:",
                    async            => 1,
                );
            }
            if ($pdu->{destination_addr} eq '447700900999') {
                $smpp->deliver_sm(
                    source_addr_ton  => 1,
                    source_addr_npi  => 1,
                    source_addr      => '447700900123',
                    destination_addr => 'PERK',
                    short_message    => 'JOIN Ann',
                    async            => 1,
                );
            }
        }
        # deliver_sm_resp and anything else: nothing to answer.
    }
    $smpp->close;
}
