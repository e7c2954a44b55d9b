import ipaddress

import pytest

from closedloop.webhooks import netguard
from closedloop.webhooks.netguard import UnsafeDestination, check_url, forbidden_reason


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fd00::1",
        "fc00::5",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "100.64.0.1",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
    ],
)
def test_internal_addresses_are_refused(address):
    assert forbidden_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert forbidden_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]:8080/",
        "http://10.0.0.8/",
        "http://172.16.4.4/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8000/",
    ],
)
def test_urls_of_internal_hosts_are_refused_after_resolution(url):
    with pytest.raises(UnsafeDestination):
        check_url(url)


def test_a_name_that_resolves_to_loopback_among_public_addresses_is_refused():
    def resolver(host, port):
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")]

    with pytest.raises(UnsafeDestination, match="rebind.example resolves to 127.0.0.1"):
        check_url("https://rebind.example/hook", resolver=resolver)


def test_an_allowed_host_may_resolve_to_an_internal_address():
    destination = check_url("http://LocalHost:9/x?y=1", allowed_hosts={"localhost"})
    assert destination.host == "localhost" and destination.target == "/x?y=1"
    assert ipaddress.ip_address("127.0.0.1") in destination.addresses


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http:///nohost"])
def test_only_http_urls_with_a_host_are_accepted(url):
    with pytest.raises(UnsafeDestination):
        check_url(url)


def test_a_redirect_to_loopback_is_refused_at_that_hop(receiver):
    # "localhost" is allowed, "127.0.0.1" is not: the first hop passes, the redirect does not.
    receiver.replies.append((307, {"Location": receiver.url("/inside")}))
    with pytest.raises(UnsafeDestination, match="loopback"):
        netguard.post(receiver.url(host="localhost"), b"{}", {}, allowed_hosts={"localhost"})
    assert [r["path"] for r in receiver.requests] == ["/hook"]


def test_redirects_are_followed_keeping_the_post_and_counted(receiver):
    receiver.replies.append((308, {"Location": "/moved"}))
    reply = netguard.post(
        receiver.url(),
        b'{"a":1}',
        {"Content-Type": "application/json"},
        allowed_hosts={"127.0.0.1"},
    )
    assert reply.status == 200 and reply.hops == [receiver.url(), receiver.url("/moved")]
    assert [r["body"] for r in receiver.requests] == [b'{"a":1}', b'{"a":1}']
    receiver.replies.extend([(302, {"Location": "/again"})] * 5)
    with pytest.raises(UnsafeDestination, match="redirects"):
        netguard.post(receiver.url(), b"{}", {}, allowed_hosts={"127.0.0.1"})


def test_the_connection_goes_to_the_checked_address_with_the_hosts_name(receiver):
    # A DNS answer is used once: the request goes to the address that was checked.
    calls = []

    def resolver(host, port):
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    reply = netguard.post(
        f"http://hooks.example:{receiver.port}/in",
        b"{}",
        {},
        allowed_hosts={"hooks.example"},
        resolver=resolver,
    )
    assert reply.status == 200 and calls == ["hooks.example"]
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example:{receiver.port}"


@pytest.mark.parametrize("url", ["https://a]b.example/", "http://[::1/hook", "https://x[/"])
def test_an_unreadable_url_is_refused_with_the_reason_not_a_server_error(url):
    with pytest.raises(netguard.UnsafeDestination, match="cannot be read"):
        netguard.check_url(url)
