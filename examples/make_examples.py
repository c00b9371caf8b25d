#!/usr/bin/python3
"""Writes the example pickles shipped in examples/ (run: PYTHONHASHSEED=0 /usr/bin/python3 examples/make_examples.py)."""
import collections
import datetime
import decimal
import os
import pickle
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    with open(os.path.join(HERE, name), 'wb') as f:
        f.write(data)


# A training configuration with library types, as a protocol 4 pickle.
config = {
    'model': 'resnet18',
    'lr': 0.001,
    'layers': [64, 128, 256, 512],
    'dropout': None,
    'pretrained': True,
    'seed': 2 ** 70 + 1,
    'schedule': collections.OrderedDict([('warmup', 5), ('decay', 0.5)]),
    'created': datetime.datetime(2024, 3, 1, 12, 30, 0, tzinfo=datetime.timezone.utc),
    'budget': decimal.Decimal('12.50'),
    'run_id': uuid.UUID('12345678-1234-5678-1234-567812345678'),
    'shape': (3, 224, 224),
    'blob': b'\x00\x01binary\xff',
    'note': 'caf\u00e9 \u2603\n',
}
write('config.pkl', pickle.dumps(config, protocol=4))

# Shared references and cycles: identity survives.
shared = [1, 2]
cyclic = {'name': 'loop'}
cyclic['self'] = cyclic
write('shared.pkl', pickle.dumps({'a': shared, 'b': shared, 'cycle': cyclic}, protocol=2))


# An object of a class brine has never seen: kept as inert data, never run.
class Checkpoint:
    def __init__(self):
        self.epoch = 7
        self.metrics = {'acc': 0.91}


Checkpoint.__module__ = 'trainer'
Checkpoint.__qualname__ = 'Checkpoint'
import sys, types
mod = types.ModuleType('trainer')
mod.Checkpoint = Checkpoint
sys.modules['trainer'] = mod
write('object.pkl', pickle.dumps(Checkpoint(), protocol=3))

# What Python 2's cPickle.dumps({'key': 'caf\xc3\xa9', u'text': u'\u03c0', 'ids': set([1, 2])}, 2)
# writes (a Python 2 str is bytes: decode it with --encoding latin1 or bytes).
write('python2.pkl',
      b'\x80\x02}q\x00(U\x03keyq\x01U\x05caf\xc3\xa9q\x02X\x04\x00\x00\x00textq\x03X\x02\x00\x00\x00'
      b'\xcf\x80q\x04U\x03idsq\x05c__builtin__\nset\nq\x06]q\x07(K\x01K\x02e\x85q\x08Rq\tu.')
print('examples written')
