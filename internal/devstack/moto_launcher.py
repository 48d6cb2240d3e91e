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
    # ResultPath parses with its own import of the parser, which builds the
    # whole parser (grammar tables, source inspection) on every call.
    from moto.stepfunctions.parser.asl.component.common.path import result_path

    result_path.parse = functools.lru_cache(maxsize=4096)(result_path.parse)


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


def patch_boto_client_cache():
    # The interpreter builds a new boto3 client for every service call a
    # state makes (Lambda invoke, S3 list): tens of milliseconds of CPU each,
    # most of a Distributed Map child's cost. Clients are thread-safe and the
    # interpreter always uses the same endpoint and dummy keys, so one client
    # per region and service serves every call.
    import threading

    import boto3
    from botocore.config import Config
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    clients = {}
    lock = threading.Lock()

    def cached_client(region, service, state_credentials=None):
        with lock:
            client = clients.get((region, service))
            if client is None:
                if boto_client.botocore_stubber.enabled:
                    return original(region, service, state_credentials)
                client = boto3.client(
                    service_name=service,
                    region_name=region,
                    aws_access_key_id="ak",
                    aws_secret_access_key="sk",
                    endpoint_url=f"http://localhost:{boto_client.moto_server_port()}",
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=boto_client.TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        read_timeout=boto_client.TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        max_pool_connections=64,
                    ),
                )
                clients[(region, service)] = client
            return client

    boto_client.boto_client_for = cached_client
    # Modules that imported the function already hold the original.
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = cached_client


def patch_backend_lookup():
    # Every request finds its service under one global lock, and doing so
    # lists moto's package folder on disk (a stat per service) and tries
    # hundreds of URL patterns. With many requests at once (a Distributed
    # Map's children) the lock serializes moto and the disk scan is most of
    # its CPU. The answer for a host never changes: remember it.
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    lookup = DomainDispatcherApplication.get_backend_for_host

    def cached_lookup(self, host):
        cache = self.__dict__.setdefault("_backend_by_host", {})
        if host not in cache:
            cache[host] = lookup(self, host)
        return cache[host]

    DomainDispatcherApplication.get_backend_for_host = cached_lookup


def patch_item_reader_list_objects():
    # A Distributed Map's ItemReader s3:listObjectsV2 reads only the first
    # page (1000 keys) and fails on an empty prefix; Step Functions reads
    # every page. Large sources have more than a page.
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (
        ResourceEvalS3,
    )

    def handle_list_objects_v2(env, resource_runtime_part, state_credentials):
        s3_client = ResourceEvalS3._get_s3_client(
            resource_runtime_part=resource_runtime_part,
            state_credentials=state_credentials,
        )
        parameters = env.stack.pop()
        contents = []
        for page in s3_client.get_paginator("list_objects_v2").paginate(**parameters):
            contents.extend(page.get("Contents", []))
        env.stack.append(contents)

    ResourceEvalS3._handle_list_objects_v2 = staticmethod(handle_list_objects_v2)


def patch_complete_multipart_if_match():
    # S3 completes a multipart upload only if the object still has the ETag
    # given in If-Match (412 otherwise, 404 when it is gone); moto 5.2.1
    # honours only If-None-Match there. Erasure rewrites large objects
    # through multipart uploads, conditional on the ETag it read.
    from moto.s3.exceptions import MissingKey, PreconditionFailed
    from moto.s3.responses import S3Response

    post = S3Response._key_response_post

    def key_response_post(self, request, body, bucket_name, query, key_name):
        if_match = request.headers.get("If-Match")
        if query.get("uploadId") and if_match:
            existing = self.backend.get_object(bucket_name, key_name)
            if existing is None:
                raise MissingKey(key=key_name)
            if not (existing.multipart and existing.multipart.id == query["uploadId"][0]):
                if if_match.replace('"', "") != existing.etag.replace('"', ""):
                    raise PreconditionFailed("If-Match")
        return post(self, request, body, bucket_name, query, key_name)

    S3Response._key_response_post = key_response_post


def quiet_access_log():
    # The HTTP server logs a line per request with its path: object keys,
    # which can hold identity values (key templates such as users/{user_id}/),
    # and thousands of lines for a large scan. AWS writes no such log for the
    # stack either. Warnings and errors still come through.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def main():
    patch_boto_client_cache()
    patch_backend_lookup()
    patch_state_machine_deepcopy()
    patch_jsonpath_cache()
    patch_model_data_by_service()
    patch_dynamodb_one_request_at_a_time()
    patch_item_reader_list_objects()
    patch_complete_multipart_if_match()
    quiet_access_log()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
