"""Start moto_server with fixes for moto 5.2.1 bugs the local stack depends on.

Usage: python3 moto_launcher.py --host 127.0.0.1 --port 4566
Set MOTO_PORT to the port the Step Functions interpreter should call for
service integrations (the in-process Lambda host), and TZ=UTC.
"""
import copy
import functools
import logging
import sys


def patch_state_machine_deepcopy():
    # moto issue 10077: StartExecution deep-copies the state machine, which
    # holds its executions (and their locks) once it has run, so the second
    # execution fails with "cannot pickle '_thread.RLock'". The clone only needs
    # the definition and settings, never the executions or the backend.
    from moto.stepfunctions.models import StateMachine

    def state_machine_deepcopy(self, memo):
        clone = self.__class__.__new__(self.__class__)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            if key == "executions":
                setattr(clone, key, [])
            elif key == "backend":
                setattr(clone, key, value)
            else:
                setattr(clone, key, copy.deepcopy(value, memo))
        return clone

    StateMachine.__deepcopy__ = state_machine_deepcopy


def patch_jsonpath_cache():
    # The interpreter re-parses every JSONPath on every evaluation; parsing
    # dominates execution time. Parsed expressions are immutable, so cache them.
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)


def patch_model_data_by_service():
    # /moto-api/data.json dumps every model instance of every service while
    # other requests change them: an item updated during the dump fails it
    # with "dictionary changed size during iteration", and the dump grows with
    # all the data held. With ?service=ses it dumps only that service's
    # models, which nothing changes but sending mail (appends are safe).
    import json
    from urllib.parse import parse_qs, urlparse

    from moto.core import model_instances
    from moto.moto_api._internal.responses import MotoAPIResponse

    everything = MotoAPIResponse.model_data

    def model_data(self, request, full_url, headers):
        wanted = parse_qs(urlparse(full_url).query).get("service")
        if not wanted:
            return everything(self, request, full_url, headers)
        results = {}
        for service in sorted(set(wanted) & set(model_instances.model_data)):
            models = model_instances.model_data[service]
            results[service] = {}
            for name in sorted(models):
                results[service][name] = []
                for instance in list(models[name].instances_tracked):
                    fields = {}
                    for attr in dir(instance):
                        if attr.startswith("_"):
                            continue
                        try:
                            value = getattr(instance, attr)
                            json.dumps(value)
                        except (TypeError, AttributeError, ValueError):
                            continue
                        fields[attr] = value
                    results[service][name].append(fields)
        return 200, {"Content-Type": "application/json"}, json.dumps(results)

    MotoAPIResponse.model_data = model_data


def patch_dynamodb_one_request_at_a_time():
    # moto's DynamoDB is not safe under concurrent requests (the server runs a
    # thread per request): a transaction checks its conditions and writes
    # without a lock, so two concurrent conditional writes of the same item
    # can both succeed; and a cancelled transaction restores a copy of each
    # table taken when it began, dropping what other requests wrote meanwhile.
    # DynamoDB answers one request at a time here, as atomic as the real one.
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    call_action = DynamoHandler.call_action

    def serialized(self):
        with lock:
            return call_action(self)

    DynamoHandler.call_action = serialized


def quiet_access_log():
    # The HTTP server logs a line per request with its path: object keys,
    # which can hold identity values (key templates such as users/{user_id}/),
    # and thousands of lines for a large scan. AWS writes no such log for the
    # stack either. Warnings and errors still come through.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def main():
    patch_state_machine_deepcopy()
    patch_jsonpath_cache()
    patch_model_data_by_service()
    patch_dynamodb_one_request_at_a_time()
    quiet_access_log()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
