package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// authority is a certificate authority held in memory while the PKI is written.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// leaf describes one certificate signed by the cluster CA.
type leaf struct {
	file          string
	commonName    string
	organizations []string
	dnsNames      []string
	ips           []net.IP
	usage         []x509.ExtKeyUsage
}

func newSerial() *big.Int {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(err)
	}
	return serial
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), mode)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

func newAuthority(dir, name, commonName string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	if err := writeKey(filepath.Join(dir, name+".key"), key); err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, nil
}

func (ca *authority) issue(dir string, l leaf) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	template := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: l.commonName, Organization: l.organizations},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  l.usage,
		DNSNames:     l.dnsNames,
		IPAddresses:  l.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return fmt.Errorf("sign %s: %w", l.file, err)
	}
	if err := writePEM(filepath.Join(dir, l.file+".crt"), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writeKey(filepath.Join(dir, l.file+".key"), key)
}

func writeServiceAccountKey(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, "sa.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), 0o600); err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, "sa.pub"), "PUBLIC KEY", pub, 0o644)
}

func randomToken() string {
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	return hex.EncodeToString(buf)
}

// clientCerts are the identities the components and the tests use; the API
// server's kubelet client certificate follows kubeadm's name and group.
var clientCerts = []leaf{
	{file: "admin", commonName: "vkedge-admin", organizations: []string{"system:masters"}},
	{file: "controller-manager", commonName: "system:kube-controller-manager"},
	{file: "scheduler", commonName: "system:kube-scheduler"},
	{file: "apiserver-kubelet-client", commonName: "kube-apiserver-kubelet-client"},
}

// writePKI creates the CAs, serving and client certificates, the
// service-account key pair and the static admin token, anew for each start.
func writePKI(dir string) (token string, err error) {
	tokenFile := filepath.Join(dir, "admin.token")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	ca, err := newAuthority(dir, "ca", "vkedge-test-ca")
	if err != nil {
		return "", err
	}
	// The front-proxy CA signs the aggregation layer's client certificate, as
	// in a kubeadm cluster; it fills requestheader-client-ca-file.
	frontProxy, err := newAuthority(dir, "front-proxy-ca", "vkedge-test-front-proxy-ca")
	if err != nil {
		return "", err
	}
	proxyClient := leaf{file: "front-proxy-client", commonName: "front-proxy-client", usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if err := frontProxy.issue(dir, proxyClient); err != nil {
		return "", err
	}
	serving := leaf{
		file:       "apiserver",
		commonName: "kube-apiserver",
		dnsNames:   []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		ips:        []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(serviceIP)},
		usage:      []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if err := ca.issue(dir, serving); err != nil {
		return "", err
	}
	for _, c := range clientCerts {
		c.usage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		if err := ca.issue(dir, c); err != nil {
			return "", err
		}
	}
	if err := writeServiceAccountKey(dir); err != nil {
		return "", err
	}
	token = randomToken()
	csv := fmt.Sprintf("%s,vkedge-admin-token,vkedge-admin-token,system:masters\n", token)
	if err := os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(csv), 0o600); err != nil {
		return "", err
	}
	return token, os.WriteFile(tokenFile, []byte(token), 0o600)
}
