"""The emulator's forced throttle: the chaos run needs THROTTLED answers from a client that
paces itself by the bucket, so they cannot come from the bucket alone."""

from typing import Any

from tests.emulator.conftest import RunningEmulator


def _door(emulator: RunningEmulator, method: str, path: str, **kwargs: Any) -> Any:
    response = emulator.http.request(method, f"{emulator.base_url}/_emulator/{path}", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_certain_throttle_fault_answers_throttled_with_a_full_bucket(
    emulator: RunningEmulator,
) -> None:
    configured = _door(emulator, "PATCH", "demo/config", json={"faults": {"throttle": 1}})
    assert configured["faults"]["throttle"] == 1.0
    body = emulator.post("{ shop { name } }").json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["THROTTLED"]
    status = body["extensions"]["cost"]["throttleStatus"]
    assert status["currentlyAvailable"] == status["maximumAvailable"], "nothing was taken"
    counters = _door(emulator, "GET", "demo/counters")
    assert (counters["throttled"], counters["faults"]["throttle"]) == (1, 1)

    _door(emulator, "PATCH", "demo/config", json={"faults": {"throttle": 0}})
    assert emulator.post("{ shop { name } }").json()["data"]["shop"]["name"]
    assert _door(emulator, "GET", "demo/counters")["throttled"] == 1


def test_the_throttle_fault_is_a_probability(emulator: RunningEmulator) -> None:
    response = emulator.http.patch(
        f"{emulator.base_url}/_emulator/demo/config", json={"faults": {"throttle": 2}}
    )
    assert response.status_code == 422
    assert "faults.throttle" in response.text
