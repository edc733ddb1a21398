// A third-party SMSC for the smpp package's interoperability test, built on
// the npm package smpp@0.5.1 (node-smpp). Usage: node smsc.js PORT
//
// It accepts bind_transceiver with any credentials, answers submit_sm with a
// decimal message_id counter, sends a delivery receipt (esm_class 4) for each
// submit that asks for one, and answers a submit to 447700900999 with an MO
// "JOIN Ann" from 447700900123 (to 447700900998: an MO "STOP"), so tests
// can make the phone side speak. It prints "listening" when ready.
'use strict';
const smpp = require('smpp');

const port = Number(process.argv[2]);
if (!port) {
	console.error('usage: node smsc.js PORT');
	process.exit(2);
}

let nextID = 1000;
// Messages seen, so a test can count what a restarted sender sent twice.
const seen = new Set();

const server = smpp.createServer((session) => {
	session.on('error', (err) => console.error('session error:', err.message));
	session.on('bind_transceiver', (pdu) => {
		session.send(pdu.response({ system_id: 'node-smpp' }));
	});
	session.on('enquire_link', (pdu) => session.send(pdu.response()));
	session.on('unbind', (pdu) => {
		session.send(pdu.response());
		session.close();
	});
	session.on('submit_sm', (pdu) => {
		const id = String(nextID++);
		const key = pdu.destination_addr + '|' + Buffer.from(pdu.short_message.message || '').toString('hex');
		if (seen.has(key)) {
			console.log('duplicate ' + pdu.destination_addr);
		}
		seen.add(key);
		session.send(pdu.response({ message_id: id }));
		if (pdu.registered_delivery & 1) {
			session.deliver_sm({
				source_addr: pdu.destination_addr,
				destination_addr: pdu.source_addr,
				esm_class: 4,
				data_coding: 0,
				short_message: 'id:' + id + ' sub:001 dlvrd:001 submit date:2611231000 done date:2611231000 stat:DELIVRD err:000 text:',
			});
		}
		const mo = { '447700900999': 'JOIN Ann', '447700900998': 'STOP' }[pdu.destination_addr];
		if (mo) {
			session.deliver_sm({
				source_addr_ton: 1,
				source_addr_npi: 1,
				source_addr: '447700900123',
				destination_addr: 'PERK',
				data_coding: 0,
				short_message: mo,
			});
		}
	});
});

server.listen(port, '127.0.0.1', () => console.log('listening'));
